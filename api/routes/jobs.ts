import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CheckResponseSchema, JobViewSchema, SubmitJobSchema, SubmitResponseSchema } from '../../contracts/job.js';
import type { JobService } from '../services/job-service.js';

const JobParams = z.object({ id: z.string().min(1).max(255) });

export const jobRoutes: FastifyPluginAsyncZod<{ jobs: JobService }> = async (app, { jobs }) => {
  app.post(
    '/v1/jobs',
    {
      schema: {
        summary: 'Submit a job; an identical submission returns the existing job (and its cached output)',
        body: SubmitJobSchema,
        response: { 200: SubmitResponseSchema, 201: SubmitResponseSchema },
      },
    },
    async (request, reply) => {
      const { created, view } = await jobs.submit(request.body);
      return reply.status(created ? 201 : 200).send({ ...view, deduplicated: !created });
    },
  );

  app.post(
    '/v1/jobs/check',
    {
      schema: {
        summary: 'Whether this submission would return an existing job; never creates one',
        body: SubmitJobSchema,
        response: { 200: CheckResponseSchema },
      },
    },
    async (request) => {
      const view = await jobs.check(request.body);
      return view ? { exists: true as const, ...view } : { exists: false as const };
    },
  );

  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'A job: status, progress, output or error',
        params: JobParams,
        response: { 200: JobViewSchema },
      },
    },
    async (request) => jobs.get(request.params.id),
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a queued or running job; idempotent; answers the current view',
        params: JobParams,
        response: { 200: JobViewSchema },
      },
    },
    async (request) => jobs.cancel(request.params.id),
  );
};
