import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  RunPodEndpointParams,
  RunPodHealthSchema,
  RunPodJobParams,
  RunPodJobStatusSchema,
  RunPodJobViewSchema,
  RunPodPurgeSchema,
  RunPodRunBodySchema,
  RunPodStreamSchema,
  RunPodWaitQuerySchema,
} from '../../../contracts/runpod.js';
import { runpodViewOf } from '../../../jobs/runpod-view.js';
import type { WaitOptions } from '../../services/job-service.js';
import type { RunPodService } from '../../services/runpod-service.js';
import { Errors } from '../../errors.js';

/** The client routes of RunPod's Serverless API, under `/runpod/v2/{endpoint}` (the endpoint id is the job type). */
export const RUNPOD_PREFIX = '/runpod/v2';

/** Client routes only: a worker's key (the gateway's runners) may not submit or read jobs here. */
const config = { roles: ['submit', 'admin'] } as const;
const tags = ['runpod'];

/** Aborted when the client hangs up: a long wait stops at once. */
function goneSignal(reply: FastifyReply): AbortSignal {
  const gone = new AbortController();
  reply.raw.once('close', () => gone.abort());
  return gone.signal;
}

function waitOf(waitMs: number, reply: FastifyReply): WaitOptions {
  return { waitMs, signal: goneSignal(reply) };
}

/** `Idempotency-Key`: opts a request into gpuflow's dedup on that key. */
function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key.length === 0 || key.length > 256) {
    throw new Errors.Validation('Idempotency-Key: one value of 1 to 256 characters');
  }
  return key;
}

export const runpodClientRoutes: FastifyPluginAsyncZod<{ runpod: RunPodService }> = async (app, { runpod }) => {
  const runSchema = { tags, params: RunPodEndpointParams, body: RunPodRunBodySchema };

  app.post(
    `${RUNPOD_PREFIX}/:endpoint/run`,
    { config, schema: { ...runSchema, summary: 'Queue a job', response: { 200: RunPodJobStatusSchema } } },
    async (request) => {
      const view = await runpod.run(request.params.endpoint, request.body, idempotencyKeyOf(request));
      return { id: view.id, status: view.status };
    },
  );

  app.post(
    `${RUNPOD_PREFIX}/:endpoint/runsync`,
    {
      config,
      schema: {
        ...runSchema,
        summary: 'Run a job and answer when it ends, or its current status once ?wait=<ms> runs out (default 90000)',
        querystring: RunPodWaitQuerySchema,
        response: { 200: RunPodJobViewSchema },
      },
    },
    async (request, reply) => {
      const wait = waitOf(request.query.wait, reply);
      return runpodViewOf(await runpod.run(request.params.endpoint, request.body, idempotencyKeyOf(request), wait));
    },
  );

  app.get(
    `${RUNPOD_PREFIX}/:endpoint/status/:id`,
    {
      config,
      schema: { tags, summary: 'A job’s status', params: RunPodJobParams, response: { 200: RunPodJobViewSchema } },
    },
    async (request) => runpod.status(request.params.endpoint, request.params.id),
  );

  app.get(
    `${RUNPOD_PREFIX}/:endpoint/status-sync/:id`,
    {
      config,
      schema: {
        tags,
        summary: 'A job’s status once it ends or ?wait=<ms> runs out (the JS SDK’s runSync)',
        params: RunPodJobParams,
        querystring: RunPodWaitQuerySchema,
        response: { 200: RunPodJobViewSchema },
      },
    },
    async (request, reply) =>
      runpod.status(request.params.endpoint, request.params.id, waitOf(request.query.wait, reply)),
  );

  app.get(
    `${RUNPOD_PREFIX}/:endpoint/stream/:id`,
    {
      config,
      schema: {
        tags,
        summary: 'Stream chunks no earlier call returned (held briefly when there is none); [] once the job has ended',
        params: RunPodJobParams,
        response: { 200: RunPodStreamSchema },
      },
    },
    async (request, reply) => runpod.stream(request.params.endpoint, request.params.id, goneSignal(reply)),
  );

  const jobAction = { config, schema: { tags, params: RunPodJobParams, response: { 200: RunPodJobStatusSchema } } };
  app.post(`${RUNPOD_PREFIX}/:endpoint/cancel/:id`, jobAction, async (request) =>
    runpod.cancel(request.params.endpoint, request.params.id),
  );
  app.post(`${RUNPOD_PREFIX}/:endpoint/retry/:id`, jobAction, async (request) =>
    runpod.retry(request.params.endpoint, request.params.id),
  );

  app.post(
    `${RUNPOD_PREFIX}/:endpoint/purge-queue`,
    {
      config,
      schema: {
        tags,
        summary: 'Cancel every queued job',
        params: RunPodEndpointParams,
        response: { 200: RunPodPurgeSchema },
      },
    },
    async (request) => runpod.purgeQueue(request.params.endpoint),
  );

  app.get(
    `${RUNPOD_PREFIX}/:endpoint/health`,
    {
      config,
      schema: {
        tags,
        summary: 'Jobs and workers',
        params: RunPodEndpointParams,
        response: { 200: RunPodHealthSchema },
      },
    },
    async (request) => runpod.health(request.params.endpoint),
  );
};
