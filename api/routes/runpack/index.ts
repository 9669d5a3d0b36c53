import type { FastifyInstance } from 'fastify';
import type { RunpackSettings } from '../../../config/runpack.js';
import type { BlobStore } from '../../../storage/blob-store.js';
import type { RunpackGateway } from '../../gateway/runpack.js';
import type { AdminService } from '../../services/admin-service.js';
import type { JobService } from '../../services/job-service.js';
import { runpackAdminRoutes } from './admin.js';
import { runpackJobRoutes } from './jobs.js';
import { runpackRunnerRoutes } from './runner.js';

/** The Runpack face: `/api/jobs/...`, `/api/admin/...`, and `/api/runner/...` when the gateway runs. */
export async function registerRunpackRoutes(
  app: FastifyInstance,
  deps: {
    jobs: JobService;
    admin: AdminService;
    blobs: BlobStore | undefined;
    settings: RunpackSettings;
    runpack: RunpackGateway | undefined;
  },
): Promise<void> {
  const { jobs, admin, blobs, settings, runpack } = deps;
  await app.register(runpackJobRoutes, { jobs, settings, blobs, runpack });
  await app.register(runpackAdminRoutes, { admin, runpack, settings });
  if (runpack) await app.register(runpackRunnerRoutes, { runpack });
}
