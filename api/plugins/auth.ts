import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { API_ROLES, type ApiKey, type ApiRole } from '../../config/env.js';
import { Errors } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The role of the API key that authenticated the request; `admin` when no keys are configured. */
    apiRole: ApiRole;
  }
  interface FastifyContextConfig {
    /**
     * The roles whose keys may call this route.
     * @defaultValue any valid key
     */
    roles?: readonly ApiRole[];
  }
}

/**
 * The only routes answered without a key: the probes (an orchestrator's health checks carry no secret) and the
 * OpenAPI document with its UI (`/docs`, `/docs/...`), which describe the API's shape, hold no data, and are what
 * a client generates its code from.
 */
export const PUBLIC_ROUTES = { exact: ['/healthz', '/readyz', '/docs'], prefixes: ['/docs/'] } as const;

/**
 * CORS preflights of the codec endpoint (the Temporal Web UI's browser sends them without credentials, and they
 * answer with headers only).
 */
export const PUBLIC_PREFLIGHTS = ['/v1/codec/encode', '/v1/codec/decode'] as const;

/** `url` is a route pattern as registered (`/v1/jobs/:id`), not a request path. */
export function isPublicRoute(url: string, method = 'GET'): boolean {
  return (
    (PUBLIC_ROUTES.exact as readonly string[]).includes(url) ||
    PUBLIC_ROUTES.prefixes.some((prefix) => url.startsWith(prefix)) ||
    (method === 'OPTIONS' && (PUBLIC_PREFLIGHTS as readonly string[]).includes(url))
  );
}

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

/** `Bearer <key>`, or the bare key as RunPod's clients send it. */
const AUTHORIZATION = /^\s*(?:Bearer\s+)?(\S+)\s*$/i;

/**
 * Deny by default: with keys configured, every route (whatever its prefix, registered before or after this plugin)
 * needs a valid key in `Authorization`, except those on {@link PUBLIC_ROUTES}. A route narrows who may call it with
 * `config: { roles: [...] }`. With no keys configured every request is admin: the API then refuses to listen
 * anywhere but loopback (see server.ts).
 */
export const authPlugin = fp(
  async (app: FastifyInstance, options: { apiKeys: readonly ApiKey[] }) => {
    // Comparing fixed-size digests in constant time leaks neither a key's content nor its length.
    const keys = options.apiKeys.map((entry) => ({ digest: digest(entry.key), role: entry.role }));
    app.decorateRequest('apiRole', 'admin');
    app.addHook('onRoute', (route: RouteOptions) => {
      const roles = route.config?.roles;
      if (roles === undefined) return;
      // A typo or an empty list would read as "anyone": refuse to start instead.
      if (roles.length === 0 || roles.some((role) => !API_ROLES.includes(role))) {
        throw new Error(`route ${route.url}: config.roles must list some of ${API_ROLES.join(', ')}, or be omitted`);
      }
    });
    app.addHook('onRequest', async (request: FastifyRequest) => {
      if (keys.length === 0) return;
      // Match on the route that will run, not on the raw URL: the router decodes `/%761/jobs` into `/v1/jobs`.
      // An unknown route (no routeOptions.url) needs a key too, so that without one nobody learns which exist.
      const route = request.routeOptions.url;
      if (route !== undefined && isPublicRoute(route, request.method)) return;
      const presented = AUTHORIZATION.exec(request.headers.authorization ?? '')?.[1];
      const hashed = presented ? digest(presented) : undefined;
      const found = hashed && keys.find((key) => timingSafeEqual(key.digest, hashed));
      if (!found) throw new Errors.Unauthorized();
      request.apiRole = found.role;
      const roles = request.routeOptions.config.roles;
      if (roles && !roles.includes(found.role)) throw new Errors.Forbidden(roles.join(' or '));
    });
  },
  { name: 'gpuflow-auth' },
);
