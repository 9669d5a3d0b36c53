import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import type { RunpackSettings } from '../../../config/runpack.js';
import { JOB_STATUSES } from '../../../contracts/status.js';
import {
  GPUFLOW_STATUSES_OF,
  RunpackAdminJobsQuerySchema,
  runpackJobOf,
  runpackTypeOf,
} from '../../../contracts/runpack.js';
import type { RunpackGateway } from '../../gateway/runpack.js';
import type { AdminService } from '../../services/admin-service.js';
import { operationConfig } from './limits.js';

/** Runpack lets its runner key read the admin routes too; both see their own tenant, the admin key every one. */
const ADMIN = ['admin', 'worker'] as const;
const tenantOf = (request: FastifyRequest): string | undefined =>
  request.apiRole === 'admin' ? undefined : request.apiTenant;

/** Runpack's admin routes: the job listing (newest first), the runners, and counts in Runpack's statuses. */
export const runpackAdminRoutes: FastifyPluginAsyncZod<{
  admin: AdminService;
  runpack: RunpackGateway | undefined;
  settings: RunpackSettings;
}> = async (app, { admin, runpack, settings }) => {
  const config = operationConfig(settings, 'admin', ADMIN);

  app.get(
    '/api/admin/jobs',
    { config, schema: { summary: 'Runpack: list jobs', querystring: RunpackAdminJobsQuerySchema } },
    async (request) => {
      const { status, limit } = request.query;
      const statuses = status ? GPUFLOW_STATUSES_OF[status] : [undefined];
      const pages = await Promise.all(
        statuses.map((gpuflow) =>
          admin.listJobs({ limit, ...(gpuflow ? { status: gpuflow } : {}) }, tenantOf(request)),
        ),
      );
      const views = pages
        .flatMap((page) => page.jobs)
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
        .slice(0, limit);
      // A listing has no progress: every running job reads `in_progress` here (a job's own route tells `claimed`).
      const jobs = views.map((view) => ({
        ...runpackJobOf(view, runpackTypeOf(view.type)),
        ...(view.status === 'IN_PROGRESS' ? { status: 'in_progress' } : {}),
      }));
      return { jobs, count: jobs.length };
    },
  );

  app.get('/api/admin/runners', { config, schema: { summary: 'Runpack: list runners' } }, async (request) => {
    const runners = runpack?.runners.list(tenantOf(request), (id) => runpack.jobsOf(id)) ?? [];
    return { runners, count: runners.length };
  });

  app.get('/api/admin/stats', { config, schema: { summary: 'Runpack: job and runner counts' } }, async (request) => {
    const { byStatus } = await admin.stats(tenantOf(request));
    const total = JOB_STATUSES.reduce((sum, status) => sum + byStatus[status], 0);
    const claimed = Math.min(byStatus.IN_PROGRESS, runpack?.claimedCount() ?? 0);
    const runners = runpack?.runners.list(tenantOf(request), () => 0) ?? [];
    return {
      jobs: {
        total,
        pending: byStatus.IN_QUEUE,
        claimed,
        in_progress: byStatus.IN_PROGRESS - claimed,
        completed: byStatus.COMPLETED,
        failed: byStatus.FAILED + byStatus.CANCELLED + byStatus.TIMED_OUT,
      },
      runners: { total: runners.length, active: runners.filter((runner) => runner.status === 'active').length },
    };
  });
};
