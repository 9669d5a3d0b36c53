import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { rateLimitOf, type RateLimits } from '../../config/limits.js';
import { Errors } from '../errors.js';

const windowText = (ms: number): string =>
  ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`;

/**
 * Request budgets per API key (`@fastify/rate-limit`, in this process's memory: each replica counts its own, so N
 * replicas behind a balancer let through up to N times the budget). A key's budget is its tenant's when the tenant
 * has one, else its role's; a key with neither, and every request when no keys are configured, is not limited.
 * Over budget: a 429 with `Retry-After` (seconds) and `GPUFLOW_ERR_RATE_LIMITED`. Runs after the auth plugin's
 * hook, so an unknown key is a 401 and never uses anyone's budget.
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, options: { limits: RateLimits }) => {
    const limitOf = (request: FastifyRequest) => rateLimitOf(options.limits, request.apiRole, request.apiTenant);
    await app.register(rateLimit, {
      global: true,
      keyGenerator: (request) => request.apiKeyId ?? 'none',
      allowList: (request) => request.apiKeyId === undefined || limitOf(request) === undefined,
      max: (request) => limitOf(request)?.max ?? Number.MAX_SAFE_INTEGER,
      timeWindow: (request) => limitOf(request)?.windowMs ?? 60_000,
      errorResponseBuilder: (_request, context) =>
        new Errors.RateLimited(
          context.max,
          windowText(limitOf(_request)?.windowMs ?? 0),
          Math.ceil(context.ttl / 1000),
        ),
    });
  },
  { name: 'gpuflow-rate-limit', dependencies: ['gpuflow-auth'] },
);

/**
 * A route's own budget per key (`config: { rateLimit: operationRateLimit(limit) }`), which replaces the role's or
 * tenant's on that route: the Runpack face's per-operation limits. Same 429 as the plugin's, with `Retry-After`.
 */
export function operationRateLimit(limit: { max: number; windowMs: number }) {
  return {
    max: limit.max,
    timeWindow: limit.windowMs,
    allowList: (request: FastifyRequest) => request.apiKeyId === undefined,
    errorResponseBuilder: (_request: FastifyRequest, context: { max: number; ttl: number }) =>
      new Errors.RateLimited(context.max, windowText(limit.windowMs), Math.ceil(context.ttl / 1000)),
  };
}
