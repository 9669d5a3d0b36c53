import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Errors } from '../../errors.js';
import type { DoneBody, RunPodGateway } from '../../gateway/gateway.js';

/** The URL prefix a GPU host's `RUNPOD_WEBHOOK_*` variables point at: `<api>/runpod-worker/<job type>/...`. */
export const RUNPOD_WORKER_PREFIX = '/runpod-worker';

const TypeParams = z.object({ type: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/), worker: z.string().min(1).max(256) });
const JobParams = TypeParams.extend({ job: z.string().min(1).max(2048) });
const PingQuery = z.object({
  job_id: z.string().optional(),
  status: z.string().optional(),
  check: z.string().optional(),
  reason: z.string().optional(),
});
const ROLES = { roles: ['worker', 'admin'] as const };

/** A `worker` key limited to some job types reaches only those (W7: the raw key in `Authorization` works). */
function checkType(request: FastifyRequest, type: string): void {
  const types = request.apiKeyTypes;
  if (types && !types.includes(type)) throw new Errors.Forbidden(`worker for job type ${type}`);
}

/** Aborts when the runner's connection goes: a job must never be written to a request nobody reads any more. */
function goneSignal(reply: FastifyReply): AbortSignal {
  const gone = new AbortController();
  reply.raw.once('close', () => gone.abort());
  return gone.signal;
}

/** The body the runpod SDK posts is JSON whatever its content type says (x-www-form-urlencoded); undefined if not. */
function jsonBody(body: unknown): DoneBody {
  if (body && typeof body === 'object' && !Array.isArray(body)) return body;
  return {};
}

/**
 * The worker-facing routes of the RunPod face (protocol RUNPOD-PROTOCOL.md, table A.8), for unmodified runpod
 * workers. Every answer but a held take or stop is immediate and 2xx where the SDK would otherwise lose a result.
 */
export const runpodWorkerRoutes: FastifyPluginAsyncZod<{ gateway: RunPodGateway }> = async (app, { gateway }) => {
  // Scoped to these routes: the SDK sends JSON as application/x-www-form-urlencoded (and with a stray charset).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  for (const type of ['application/x-www-form-urlencoded', 'text/plain']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (request, body, done) => {
      if ((body as string).length === 0) done(null, undefined);
      else void parseJson(request, body as string, done);
    });
  }

  const take = (batch: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
    const { type, worker } = TypeParams.parse(request.params);
    checkType(request, type);
    const job = await gateway.take(type, worker, goneSignal(reply));
    if (!job) return reply.code(204).send();
    return reply
      .code(200)
      .type('application/json')
      .send(JSON.stringify(batch ? [job] : job));
  };
  const takeSchema = { summary: 'RunPod worker: take a job (long-poll, then 204)', params: TypeParams };
  app.get(`${RUNPOD_WORKER_PREFIX}/:type/job-take/:worker`, { config: ROLES, schema: takeSchema }, take(false));
  app.get(`${RUNPOD_WORKER_PREFIX}/:type/job-take-batch/:worker`, { config: ROLES, schema: takeSchema }, take(true));

  app.get(
    `${RUNPOD_WORKER_PREFIX}/:type/job-stop/:worker`,
    { config: ROLES, schema: { summary: 'RunPod worker: jobs to stop (long-poll)', params: TypeParams } },
    async (request, reply) => {
      checkType(request, request.params.type);
      const ids = await gateway.stops(request.params.type, request.params.worker, goneSignal(reply));
      if (ids.length === 0) return reply.code(204).send();
      return reply.code(200).send({ jobsToStop: ids });
    },
  );

  app.post(
    `${RUNPOD_WORKER_PREFIX}/:type/job-done/:worker/:job`,
    { config: ROLES, schema: { summary: 'RunPod worker: a result or a progress update', params: JobParams } },
    async (request) => {
      const { type, worker, job } = request.params;
      checkType(request, type);
      await gateway.done(type, worker, job, jsonBody(request.body));
      return {};
    },
  );

  app.post(
    `${RUNPOD_WORKER_PREFIX}/:type/job-stream/:worker/:job`,
    { config: ROLES, schema: { summary: 'RunPod worker: one stream chunk', params: JobParams } },
    async (request) => {
      const { type, worker, job } = request.params;
      checkType(request, type);
      await gateway.stream(type, worker, job, jsonBody(request.body));
      return {};
    },
  );

  app.get(
    `${RUNPOD_WORKER_PREFIX}/:type/ping/:worker`,
    { config: ROLES, schema: { summary: 'RunPod worker: heartbeat', params: TypeParams, querystring: PingQuery } },
    async (request) => {
      const { type, worker } = request.params;
      checkType(request, type);
      const { job_id: jobIds, status, check, reason } = request.query;
      // W8: the start-up fitness report comes here too; the worker exits right after it.
      if (status === 'unhealthy')
        request.log.warn({ type, worker, check, reason }, 'runpod worker failed a fitness check');
      await gateway.ping(type, worker, jobIds ? jobIds.split(',').filter(Boolean) : []);
      return {};
    },
  );
};
