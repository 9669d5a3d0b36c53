import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SubmitJobSchema, type JobView, type SubmitJob } from '../../../contracts/job.js';
import { RunpackJobRequestSchema, gpuflowTypeOf, runpackJobOf, runpackTypeOf } from '../../../contracts/runpack.js';
import { readJobLog } from '../../../jobs/job-logs.js';
import type { RunpackSettings } from '../../../config/runpack.js';
import type { BlobStore } from '../../../storage/blob-store.js';
import { Errors } from '../../errors.js';
import type { RunpackGateway } from '../../gateway/runpack.js';
import type { JobService } from '../../services/job-service.js';
import { checkSize, operationConfig } from './limits.js';

const CLIENT = ['submit', 'admin'] as const;
const JobParams = z.object({ jobId: z.string().min(1).max(512) });

/**
 * Runpack's job routes (submit key) on gpuflow's jobs: the same jobs as `/v1/jobs`, deduplicated by gpuflow's hash
 * of tenant, type and input. A completed duplicate answers its cached output; a job that failed, was cancelled or
 * timed out is `failed` with its `error_message` (and a new submit of it runs it again, as `/v1/jobs` does).
 */
export const runpackJobRoutes: FastifyPluginAsyncZod<{
  jobs: JobService;
  settings: RunpackSettings;
  blobs: BlobStore | undefined;
  runpack: RunpackGateway | undefined;
}> = async (app, { jobs, settings, blobs, runpack }) => {
  /** A job only offered to a runner is `pending` to its client (Temporal counts its task started already). */
  const jobOfView = (view: JobView, jobType: string, consoleOutput?: string) => {
    const job = runpackJobOf(view, jobType, consoleOutput);
    return job.status === 'claimed' && runpack?.isOffered(view.id) ? { ...job, status: 'pending' } : job;
  };
  const jobOf = (body: z.output<typeof RunpackJobRequestSchema>): SubmitJob => {
    checkSize('input_params', body.input_params, settings.maxInputBytes);
    const type = gpuflowTypeOf(body.job_type);
    if (!type) throw new Errors.Validation('job_type: must start with a-z and hold only a-z, 0-9, - and _');
    const parsed = SubmitJobSchema.safeParse({ type, input: body.input_params });
    if (!parsed.success) throw new Errors.Validation(parsed.error.issues.map((issue) => issue.message).join('; '));
    return parsed.data;
  };

  app.post(
    '/api/jobs/check',
    {
      config: operationConfig(settings, 'check', CLIENT),
      schema: { summary: 'Runpack: does this job exist (never creates it)', body: RunpackJobRequestSchema },
    },
    async (request) => {
      const view = await jobs.check(jobOf(request.body), request.apiTenant);
      if (!view) return { exists: false };
      return { exists: true, ...jobOfView(view, request.body.job_type) };
    },
  );

  app.post(
    '/api/jobs/submit',
    {
      config: operationConfig(settings, 'submit', CLIENT),
      schema: { summary: 'Runpack: submit a job (or get its cached result)', body: RunpackJobRequestSchema },
    },
    async (request, reply) => {
      const { created, view } = await jobs.submit(jobOf(request.body), request.apiTenant);
      const job = jobOfView(view, request.body.job_type);
      if (created) return reply.code(201).send({ job_id: view.id, job_type: request.body.job_type, status: 'pending' });
      return reply.code(200).send({ ...job, cached: job.status === 'completed' });
    },
  );

  app.get(
    '/api/jobs/:jobId',
    {
      config: { ...operationConfig(settings, 'status', CLIENT), jobParam: 'jobId' },
      schema: { summary: 'Runpack: a job, with its console output', params: JobParams },
    },
    async (request) => {
      const view = await jobs.get(request.params.jobId);
      const lines = blobs ? await readJobLog(blobs, view.id, view.attempt) : [];
      return jobOfView(view, runpackTypeOf(view.type), lines.map((entry) => entry.line).join('\n'));
    },
  );
};
