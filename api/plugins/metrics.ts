import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiMetrics } from '../services/api-metrics.js';

/** Requests that matched no route share one label value: unknown URLs must not make new series. */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * Times every request by route template and serves `GET /metrics` (Prometheus text format) to `admin` and
 * `metrics` keys. A scrape reads counters and the last background queue figures: it makes no Temporal call.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, { metrics }: { metrics: ApiMetrics }) => {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
      metrics.request(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    });
    app.get(
      '/metrics',
      { config: { roles: ['admin', 'metrics'] }, schema: { hide: true } },
      async (_request, reply) => {
        const body = await metrics.registry.metrics();
        return reply.type(metrics.registry.contentType).send(body);
      },
    );
  },
  { name: 'gpuflow-metrics', dependencies: ['gpuflow-auth'] },
);
