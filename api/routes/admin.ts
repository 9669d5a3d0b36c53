import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import {
  JobListSchema,
  ListJobsQuerySchema,
  QueuesSchema,
  StatsQuerySchema,
  StatsSchema,
} from '../../contracts/admin.js';
import type { AdminService } from '../services/admin-service.js';

/** Whose jobs a listing covers: an admin's choice (every tenant's by default), else the caller's own tenant's. */
const tenantOf = (request: FastifyRequest, asked: string | undefined): string | undefined =>
  request.apiRole === 'admin' ? asked : request.apiTenant;

/**
 * Listings and counts: a submit key sees its tenant's jobs, an admin key every tenant's (or one, `?tenant=`).
 * Queues are the operator's view of the whole cluster: admin only. Any request is admin when no keys are configured.
 */
export const adminRoutes: FastifyPluginAsyncZod<{ admin: AdminService }> = async (app, { admin }) => {
  app.get(
    '/v1/jobs',
    {
      config: { roles: ['submit', 'admin'] },
      schema: {
        summary: 'List jobs, filtered by status and type (a submit key: its tenant’s jobs only)',
        description:
          'Views come from Temporal visibility alone: no `output` and no `progress` (GET the job for those). ' +
          'Order is visibility order (SQL visibility cannot sort): running jobs first, newest start first, then ' +
          'closed jobs by close time, newest first. Pass `nextCursor` as `cursor` for the next page. ' +
          'Visibility lags writes by about a second.',
        querystring: ListJobsQuerySchema,
        response: { 200: JobListSchema },
      },
    },
    async (request) => admin.listJobs(request.query, tenantOf(request, request.query.tenant)),
  );

  app.get(
    '/v1/stats',
    {
      config: { roles: ['submit', 'admin'] },
      schema: {
        summary: 'Job counts by status, overall and per job type (a submit key: its tenant’s jobs only)',
        description: 'Approximate, as visibility is. `byType` holds every known job type that has jobs.',
        querystring: StatsQuerySchema,
        response: { 200: StatsSchema },
      },
    },
    async (request) => admin.stats(tenantOf(request, request.query.tenant)),
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
