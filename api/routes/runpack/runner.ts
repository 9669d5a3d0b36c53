import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  RunpackCompleteSchema,
  RunpackErrorSchema,
  RunpackHeartbeatSchema,
  RunpackRegisterSchema,
  gpuflowTypeOf,
} from '../../../contracts/runpack.js';
import { Errors } from '../../errors.js';
import type { RunpackGateway } from '../../gateway/runpack.js';
import { checkSize, operationConfig } from './limits.js';

const RUNNER = ['worker', 'admin'] as const;
const RunnerHeaders = z.object({ 'x-runner-id': z.string().min(1).max(256) });
const JobParams = z.object({ jobId: z.string().min(1).max(2048) });
/** `types[]=a&types[]=b` (also `types=a,b`): Runpack's job types, in either spelling. */
const AvailableQuery = z.object({
  'types[]': z.union([z.string(), z.array(z.string())]).optional(),
  types: z.union([z.string(), z.array(z.string())]).optional(),
});

function typesOf(query: z.output<typeof AvailableQuery>, request: FastifyRequest): Map<string, string> {
  const asked = [query['types[]'] ?? [], query.types ?? []].flat().flatMap((value) => value.split(','));
  const types = new Map<string, string>();
  for (const spelling of asked.filter(Boolean)) {
    const type = gpuflowTypeOf(spelling);
    if (!type) throw new Errors.Validation(`types: "${spelling}" is not a job type (a-z first, then a-z, 0-9, - or _)`);
    const allowed = request.apiKeyTypes;
    if (allowed && !allowed.includes(type)) throw new Errors.Forbidden(`worker for job type ${type}`);
    types.set(type, spelling);
  }
  return types;
}

function goneSignal(reply: FastifyReply): AbortSignal {
  const gone = new AbortController();
  reply.raw.once('close', () => gone.abort());
  return gone.signal;
}

/**
 * Runpack's runner routes (runner key, `X-Runner-ID`). Runners serve every tenant's jobs of their types, like
 * native workers and RunPod workers (task queues are per type); the job ids they get are the gateway's (job id and
 * attempt task token), not `:id`s that the tenant scope reads (`jobParam: false`).
 */
export const runpackRunnerRoutes: FastifyPluginAsyncZod<{ runpack: RunpackGateway }> = async (app, { runpack }) => {
  const { settings } = runpack;
  const config = (operation: Parameters<typeof operationConfig>[1]) => ({
    ...operationConfig(settings, operation, RUNNER),
    jobParam: false as const,
  });
  const runnerOf = (request: FastifyRequest): string => {
    const runner = RunnerHeaders.parse(request.headers)['x-runner-id'];
    runpack.runners.touch(runner, request.apiTenant);
    return runner;
  };

  app.post(
    '/api/runner/register',
    { config: config('register'), schema: { summary: 'Runpack: register a runner', body: RunpackRegisterSchema } },
    async (request, reply) => {
      const { name, capabilities } = request.body;
      const runnerId = runpack.runners.register(name, capabilities, request.apiTenant);
      return reply.code(201).send({ runner_id: runnerId, name, capabilities });
    },
  );

  app.get(
    '/api/runner/jobs/available',
    {
      config: config('available'),
      schema: { summary: 'Runpack: the jobs held for this runner', querystring: AvailableQuery },
    },
    async (request, reply) => {
      const runner = runnerOf(request);
      const types = typesOf(request.query, request);
      runpack.runners.touch(runner, request.apiTenant, [...types.values()]);
      return { jobs: await runpack.available(runner, types, goneSignal(reply)) };
    },
  );

  app.post(
    '/api/runner/jobs/:jobId/claim',
    { config: config('claim'), schema: { summary: 'Runpack: claim a job', params: JobParams } },
    async (request) => ({ job: await runpack.claim(runnerOf(request), request.params.jobId) }),
  );

  app.post(
    '/api/runner/jobs/:jobId/heartbeat',
    {
      config: config('heartbeat'),
      schema: {
        summary: 'Runpack: heartbeat, progress, console output',
        params: JobParams,
        body: RunpackHeartbeatSchema.prefault({}),
      },
    },
    async (request) => {
      checkSize('console_output', request.body.console_output, settings.maxConsoleBytes);
      return runpack.heartbeat(runnerOf(request), request.params.jobId, request.body);
    },
  );

  app.post(
    '/api/runner/jobs/:jobId/complete',
    {
      config: config('complete'),
      schema: { summary: 'Runpack: complete a job', params: JobParams, body: RunpackCompleteSchema.prefault({}) },
    },
    async (request) => {
      checkSize('output_data', request.body.output_data, settings.maxOutputBytes);
      checkSize('console_output', request.body.console_output, settings.maxConsoleBytes);
      await runpack.complete(runnerOf(request), request.params.jobId, request.body);
      return { status: 'completed' };
    },
  );

  app.post(
    '/api/runner/jobs/:jobId/error',
    {
      config: config('error'),
      schema: { summary: 'Runpack: report a failed job', params: JobParams, body: RunpackErrorSchema.prefault({}) },
    },
    async (request) => {
      checkSize('console_output', request.body.console_output, settings.maxConsoleBytes);
      await runpack.error(runnerOf(request), request.params.jobId, request.body);
      return { status: 'failed' };
    },
  );
};
