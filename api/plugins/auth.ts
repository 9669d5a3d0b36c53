import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKey, ApiRole } from '../../config/env.js';
import { Errors } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The role of the API key that authenticated the request; `admin` when no keys are configured. */
    apiRole: ApiRole;
  }
}

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

/**
 * Bearer-key auth for every `/v1` route. With no keys configured every request is admin: the API then refuses
 * to listen anywhere but loopback (see server.ts).
 */
export const authPlugin = fp(
  async (app: FastifyInstance, options: { apiKeys: readonly ApiKey[] }) => {
    // Comparing fixed-size digests in constant time leaks neither a key's content nor its length.
    const keys = options.apiKeys.map((entry) => ({ digest: digest(entry.key), role: entry.role }));
    app.decorateRequest('apiRole', 'admin');
    app.addHook('onRequest', async (request: FastifyRequest) => {
      // Match on the route that will run, not on the raw URL: the router decodes `/%761/jobs` into `/v1/jobs`.
      // Unknown routes (no routeOptions.url) answer 404 either way.
      const route = request.routeOptions.url;
      if (keys.length === 0 || route === undefined || !route.startsWith('/v1/')) return;
      // A CORS preflight never carries credentials (the codec endpoint's, for the Temporal UI); it reads nothing.
      if (request.method === 'OPTIONS') return;
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
      const presented = match?.[1] ? digest(match[1]) : undefined;
      const found = presented && keys.find((key) => timingSafeEqual(key.digest, presented));
      if (!found) throw new Errors.Unauthorized();
      request.apiRole = found.role;
    });
  },
  { name: 'gpuflow-auth' },
);
