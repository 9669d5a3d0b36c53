import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { JobListSchema, ListJobsQuerySchema, QueuesSchema, StatsSchema } from '../../contracts/admin.js';
import type { AdminService } from '../services/admin-service.js';

/** Operator views. They need the admin role (any request is admin when no API keys are configured). */
export const adminRoutes: FastifyPluginAsyncZod<{ admin: AdminService }> = async (app, { admin }) => {
  app.get(
    '/v1/jobs',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'List jobs, filtered by status and type',
        description:
          'Views come from Temporal visibility alone: no `output` and no `progress` (GET the job for those). ' +
          'Order is visibility order (SQL visibility cannot sort): running jobs first, newest start first, then ' +
          'closed jobs by close time, newest first. Pass `nextCursor` as `cursor` for the next page. ' +
          'Visibility lags writes by about a second.',
        querystring: ListJobsQuerySchema,
        response: { 200: JobListSchema },
      },
    },
    async (request) => admin.listJobs(request.query),
  );

  app.get(
    '/v1/stats',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Job counts by status, overall and per job type',
        description: 'Approximate, as visibility is. `byType` holds every known job type that has jobs.',
        response: { 200: StatsSchema },
      },
    },
    async () => admin.stats(),
  );

  app.get(
    '/v1/queues',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Per job type: backlog count and age, and the workers polling its task queue',
        description: 'Temporal caches these figures for about 5 s and keeps a poller for a few minutes.',
        response: { 200: QueuesSchema },
      },
    },
    async () => admin.queues(),
  );
};
