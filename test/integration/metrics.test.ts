import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from '../../api/app.js';
import type { JobView } from '../../contracts/job.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { defineJob } from '../../sdk/define-job.js';
import { JobWorkerMetrics, serveMetrics } from '../../workers/job-worker-metrics.js';
import { runGpuflow, type GpuflowProcess } from '../support/processes.js';
import { Scrape } from '../support/prometheus.js';
import { NAMESPACE, startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

const ADMIN = 'admin-key-0123456789abcdef';
const SCRAPER = 'metrics-key-0123456789abcdef';
const SUBMITTER = 'submit-key-0123456789abcdef';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Prometheus metrics as a scraper sees them: the API's `/metrics` behind a key, parsed by a real exposition parser,
 * and a job worker's `--metrics-port` with the Temporal SDK's own metrics beside it.
 */
describe('metrics', () => {
  const suffix = uniqueSuffix();
  const echoType = `metered-${suffix}`;
  const idleType = `unserved-${suffix}`;
  let stack: TestStack;
  let app: FastifyInstance;
  let client: Client;
  /** Every gRPC call the metered app's client makes to Temporal. */
  const temporalCalls: string[] = [];

  beforeAll(async () => {
    stack = await startStack();
    const counting: Interceptor = (options, nextCall) => {
      temporalCalls.push(options.method_definition.path);
      return new InterceptingCall(nextCall(options));
    };
    client = new Client({
      connection: await Connection.connect({ address: inject('temporalAddress'), interceptors: [counting] }),
      namespace: NAMESPACE,
    });
    app = await buildApp({
      client,
      namespace: NAMESPACE,
      controlTaskQueue: stack.controlTaskQueue,
      apiKeys: [
        { key: ADMIN, role: 'admin' },
        { key: SCRAPER, role: 'metrics' },
        { key: SUBMITTER, role: 'submit' },
      ],
      // Refreshed by hand below: the background timer must not run during the scrapes that are counted.
      queueFiguresIntervalMs: 3_600_000,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await client?.connection.close();
    await stack?.stop();
  });

  const scrape = async (key = SCRAPER): Promise<Scrape> => {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${key}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return new Scrape(res.body);
  };
  const submit = async (type: string, input: unknown) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { authorization: `Bearer ${SUBMITTER}` },
      payload: { type, input },
    });
    expect([200, 201]).toContain(res.statusCode);
    return res.json<JobView & { deduplicated: boolean }>();
  };

  it('serves /metrics to admin and metrics keys only', async () => {
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const submitter = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${SUBMITTER}` },
    });
    expect(submitter.statusCode).toBe(403);
    expect((await scrape(ADMIN)).family('gpuflow_http_request_duration_seconds')?.type).toBe('HISTOGRAM');
    // A metrics key reaches nothing else.
    const listing = await app.inject({
      method: 'GET',
      url: '/v1/jobs',
      headers: { authorization: `Bearer ${SCRAPER}` },
    });
    expect(listing.statusCode).toBe(403);
  });

  it('counts submissions, deduplications and cache hits by type, and requests by route template', async () => {
    const metrics = new JobWorkerMetrics();
    const served = await serveMetrics(metrics.registry, 0, '127.0.0.1');
    try {
      const echo = defineJob({ type: echoType, input: z.object({ n: z.number() }), handler: (input) => input });
      await stack.startJobWorker({ jobs: [echo], capacity: 2, metrics });
      const first = await submit(echoType, { n: 1 });
      expect(first.deduplicated).toBe(false);
      await waitFor(
        async () =>
          (
            await app.inject({
              method: 'GET',
              url: `/v1/jobs/${first.id}`,
              headers: { authorization: `Bearer ${ADMIN}` },
            })
          ).json<JobView>(),
        (view) => view.status === 'COMPLETED',
      );
      const again = await submit(echoType, { n: 1 });
      expect(again).toMatchObject({ deduplicated: true, status: 'COMPLETED', output: { n: 1 } });

      const api = await scrape();
      expect(api.value('gpuflow_jobs_submitted_total', { type: echoType })).toBe(2);
      expect(api.value('gpuflow_jobs_deduplicated_total', { type: echoType })).toBe(1);
      expect(api.value('gpuflow_job_cache_hits_total', { type: echoType })).toBe(1);
      const requests = 'gpuflow_http_request_duration_seconds';
      expect(api.count(requests, { method: 'POST', route: '/v1/jobs', status_code: '201' })).toBe(1);
      expect(api.count(requests, { method: 'POST', route: '/v1/jobs', status_code: '200' })).toBe(1);
      expect(api.count(requests, { method: 'GET', route: '/v1/jobs/:id', status_code: '200' })).toBeGreaterThanOrEqual(
        1,
      );
      // Route templates only: no job id ever becomes a label value.
      expect(api.labelValues(requests, 'route').some((route) => route.includes(first.id))).toBe(false);

      const res = await fetch(`http://127.0.0.1:${served.port}/metrics`);
      const worker = new Scrape(await res.text());
      expect(worker.count('gpuflow_worker_attempt_duration_seconds', { type: echoType, outcome: 'completed' })).toBe(1);
      expect(worker.value('gpuflow_worker_capacity', { type: echoType })).toBe(2);
      expect(worker.value('gpuflow_worker_jobs_running', { type: echoType })).toBe(0);
      expect(worker.family('gpuflow_worker_heartbeat_failures_total')?.type).toBe('COUNTER');
    } finally {
      await served.close();
    }
  });

  it('shows the backlog of a type with a queued job and no worker, and a scrape makes no Temporal call', async () => {
    await submit(idleType, { waiting: true });
    const figures = await waitFor(
      async () => {
        await app.queueFigures.refresh();
        return scrape();
      },
      (s) => (s.value('gpuflow_queue_backlog', { type: idleType }) ?? 0) >= 1,
    );
    expect(figures.value('gpuflow_queue_workers', { type: idleType, source: 'temporal' })).toBe(0);
    expect(figures.value('gpuflow_queue_backlog_age_seconds', { type: idleType })).toBeGreaterThanOrEqual(0);
    expect(figures.value('gpuflow_queue_figures_age_seconds')).toBeGreaterThanOrEqual(0);

    const before = temporalCalls.length;
    for (let i = 0; i < 5; i++) await scrape();
    expect(temporalCalls.slice(before)).toEqual([]);
    // The refresh itself does go to Temporal (the counter does see this client's calls).
    await app.queueFigures.refresh();
    expect(temporalCalls.slice(before)).toContain('/temporal.api.workflowservice.v1.WorkflowService/DescribeTaskQueue');
  });

  describe('gpuflow worker --metrics-port', () => {
    const project = mkdtempSync(join(tmpdir(), 'gpuflow-metrics-'));
    const cliType = `metered-cli-${suffix}`;
    let worker: GpuflowProcess | undefined;
    afterAll(async () => {
      if (worker && worker.child.exitCode === null) {
        worker.child.kill('SIGTERM');
        await worker.exited;
      }
      rmSync(project, { recursive: true, force: true });
    });

    it("serves the worker's metrics and the Temporal SDK's runtime metrics on a port of their own", async () => {
      mkdirSync(join(project, 'node_modules'));
      symlinkSync(PROJECT_ROOT, join(project, 'node_modules', 'gpuflow'));
      symlinkSync(join(PROJECT_ROOT, 'node_modules', 'zod'), join(project, 'node_modules', 'zod'));
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'metered', type: 'module', private: true }));
      writeFileSync(
        join(project, 'job.ts'),
        `import { z } from 'zod';
import { defineJob } from 'gpuflow/worker';
export default defineJob({ type: '${cliType}', input: z.object({}), handler: () => ({ ok: true }) });
`,
      );
      const [port, sdkPort] = [await freePort(), await freePort()];
      worker = runGpuflow(
        [
          'worker',
          join(project, 'job.ts'),
          '--metrics-port',
          String(port),
          '--sdk-metrics-port',
          String(sdkPort),
          '--metrics-host',
          '127.0.0.1',
        ],
        { TEMPORAL_ADDRESS: inject('temporalAddress') },
      );
      await worker.waitForLine(/metrics on http:\/\/127\.0\.0\.1/);
      const job = await submit(cliType, {});
      await waitFor(
        async () =>
          (
            await app.inject({
              method: 'GET',
              url: `/v1/jobs/${job.id}`,
              headers: { authorization: `Bearer ${ADMIN}` },
            })
          ).json<JobView>(),
        (view) => view.status === 'COMPLETED',
      );
      const own = new Scrape(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      expect(own.count('gpuflow_worker_attempt_duration_seconds', { type: cliType, outcome: 'completed' })).toBe(1);
      expect(own.value('gpuflow_worker_capacity', { type: cliType })).toBe(1);
      const sdk = await waitFor(
        async () => new Scrape(await (await fetch(`http://127.0.0.1:${sdkPort}/metrics`)).text()),
        (s) => s.families.some((family) => family.name.startsWith('temporal_activity_execution')),
      );
      expect(sdk.families.some((family) => family.name === 'temporal_worker_start_total')).toBe(true);
    });
  });
});
