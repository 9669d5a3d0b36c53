import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CheckResponseSchema,
  JobViewSchema,
  SubmitJobSchema,
  SubmitResponseSchema,
  WaitQuerySchema,
} from '../../contracts/job.js';
import type { JobService, WaitOptions } from '../services/job-service.js';

const JobParams = z.object({ id: z.string().min(1).max(255) });

/** A `?wait` that ends early when the client hangs up: nobody is left to answer. */
function waitOf(query: { wait?: number }, reply: FastifyReply): WaitOptions {
  if (!query.wait) return {};
  const gone = new AbortController();
  reply.raw.once('close', () => gone.abort());
  return { waitMs: query.wait, signal: gone.signal };
}

export const jobRoutes: FastifyPluginAsyncZod<{ jobs: JobService }> = async (app, { jobs }) => {
  app.post(
    '/v1/jobs',
    {
      schema: {
        summary:
          'Submit a job; an identical submission returns the existing job (and its cached output). ' +
          'With ?wait=<ms> (at most 300000), answer once the job has ended or the wait has run out.',
        querystring: WaitQuerySchema,
        body: SubmitJobSchema,
        response: { 200: SubmitResponseSchema, 201: SubmitResponseSchema },
      },
    },
    async (request, reply) => {
      const { created, view } = await jobs.submit(request.body, request.apiTenant, waitOf(request.query, reply));
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
      const view = await jobs.check(request.body, request.apiTenant);
      return view ? { exists: true as const, ...view } : { exists: false as const };
    },
  );

  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        summary:
          'A job: status, progress, output or error. With ?wait=<ms> (at most 300000), long-polls until it ends.',
        params: JobParams,
        querystring: WaitQuerySchema,
        response: { 200: JobViewSchema },
      },
    },
    async (request, reply) => jobs.get(request.params.id, waitOf(request.query, reply)),
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

  app.post(
    '/v1/jobs/:id/retry',
    {
      schema: {
        summary: 'Run a FAILED, TIMED_OUT or CANCELLED job again under the same id (409 for any other status)',
        params: JobParams,
        response: { 202: JobViewSchema },
      },
    },
    async (request, reply) => reply.status(202).send(await jobs.retry(request.params.id)),
  );
};
