import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import {
  JobListSchema,
  JobQueueSchema,
  ListJobsQuerySchema,
  PauseBodySchema,
  QueuesSchema,
  QueueTypeParamsSchema,
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

  app.post(
    '/v1/queues/:type/pause',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Pause a job type: its jobs stay IN_QUEUE, running jobs finish, no worker gets a new one',
        description:
          'Kept by Temporal (a dispatch rate of 0 on the task queue `jobs.<type>`), so it holds for every worker ' +
          '(TypeScript, Python, gateway runners) and across restarts of every process. Idempotent. A paused ' +
          "job's view says `queue.paused: true`. Time spent paused counts against a job's `ttlMs`.",
        params: QueueTypeParamsSchema,
        body: PauseBodySchema,
        response: { 200: JobQueueSchema },
      },
    },
    async (request) => admin.pause(request.params.type, request.body?.reason),
  );

  app.post(
    '/v1/queues/:type/resume',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Resume a paused job type: its queued jobs are dispatched again',
        description: 'Idempotent: resuming a type that is not paused changes nothing.',
        params: QueueTypeParamsSchema,
        response: { 200: JobQueueSchema },
      },
    },
    async (request) => admin.resume(request.params.type),
  );
};
