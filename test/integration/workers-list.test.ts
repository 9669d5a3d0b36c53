import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import type { WorkerEntry, Workers } from '../../contracts/workers.js';
import { resolvePython } from '../../scripts/python-env.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { runGpuflow, runProcess, type GpuflowProcess } from '../support/processes.js';
import { Scrape } from '../support/prometheus.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

const ADMIN = 'admin-key-0123456789abcdef';
const SUBMIT = 'submit-key-0123456789abcdef';
/** Every worker process of this test heartbeats to Temporal once a second: lost after 3 s without one. */
const HEARTBEAT = { GPUFLOW_WORKER_HEARTBEAT_INTERVAL_MS: '1000' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `GET /v1/workers` as an operator sees it: a TypeScript and a Python worker process listed with their types and
 * capacity (from Temporal's own worker heartbeats), one draining after SIGTERM, one lost after SIGKILL and still
 * listed, the gateway's HTTP runners beside them; and the Python worker's `--metrics-port` scraped mid-job.
 */
describe('workers list', () => {
  const suffix = uniqueSuffix();
  const napType = `wl-nap-${suffix}`;
  const echoType = `wl-echo-${suffix}`;
  const pyType = `wl-py-${suffix}`;
  const runnerType = `wl-runner-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-workers-'));
  let stack: TestStack;
  let tsWorker: GpuflowProcess;
  let pyWorker: GpuflowProcess;
  let metricsPort: number;
  let sdkMetricsPort: number;

  const auth = (key: string) => ({ authorization: `Bearer ${key}` });
  const list = async (): Promise<Workers> => {
    const res = await stack.app.inject({ method: 'GET', url: '/v1/workers', headers: auth(ADMIN) });
    expect(res.statusCode).toBe(200);
    return res.json<Workers>();
  };
  const serving = (type: string) => (workers: Workers) =>
    workers.workers.find((worker) => worker.types.some((entry) => entry.type === type));
  const entryOf = async (type: string, done: (worker: WorkerEntry) => boolean, timeoutMs = 30_000) =>
    (await waitFor(
      async () => serving(type)(await list()),
      (worker) => worker !== undefined && done(worker),
      timeoutMs,
    )) as WorkerEntry;
  const submit = async (type: string, input: unknown): Promise<JobView> => {
    const res = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: auth(SUBMIT),
      payload: { type, input, dedup: false },
    });
    expect(res.statusCode).toBe(201);
    return res.json<JobView>();
  };
  const view = async (id: string): Promise<JobView> =>
    (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: auth(SUBMIT) })).json<JobView>();

  beforeAll(async () => {
    stack = await startStack({
      apiKeys: [
        { key: ADMIN, role: 'admin' },
        { key: SUBMIT, role: 'submit' },
      ],
      gateway: { holdMs: 3000 },
      api: { workerHeartbeatIntervalMs: 1000 },
    });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'wl-jobs', type: 'module', private: true }));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(PROJECT_ROOT, join(dir, 'node_modules', 'gpuflow'));
    symlinkSync(join(PROJECT_ROOT, 'node_modules', 'zod'), join(dir, 'node_modules', 'zod'));
    const job = (type: string, body: string) => `import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from 'gpuflow/worker';
export default defineJob({ type: '${type}', input: z.any(), async handler(input, ctx) { ${body} } });
`;
    writeFileSync(
      join(dir, 'nap.ts'),
      job(napType, 'await sleep(input.ms, undefined, { signal: ctx.signal }); return input;'),
    );
    writeFileSync(join(dir, 'echo.ts'), job(echoType, 'return input;'));
    writeFileSync(
      join(dir, 'handlers.py'),
      `import time
import gpuflow

@gpuflow.job("${pyType}")
def nap(input, ctx):
    time.sleep(input["seconds"])
    return input
`,
    );
    const temporal = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      GPUFLOW_CONTROL_TASK_QUEUE: stack.controlTaskQueue,
    };
    tsWorker = runGpuflow(
      [
        'worker',
        join(dir, 'nap.ts'),
        join(dir, 'echo.ts'),
        '--capacity',
        '2',
        '--grace',
        '30',
        '--identity',
        `ts-${suffix}`,
      ],
      { ...temporal, ...HEARTBEAT },
    );
    [metricsPort, sdkMetricsPort] = [await freePort(), await freePort()];
    pyWorker = runProcess(
      resolvePython(),
      [
        '-m',
        'gpuflow',
        'worker',
        join(dir, 'handlers.py'),
        '--capacity',
        '3',
        '--identity',
        `py-${suffix}`,
        '--metrics-port',
        String(metricsPort),
        '--sdk-metrics-port',
        String(sdkMetricsPort),
        '--metrics-host',
        '127.0.0.1',
      ],
      { ...temporal, ...HEARTBEAT, PYTHONPATH: join(PROJECT_ROOT, 'python', 'src'), GPUFLOW_DATA_DIR: dir },
    );
    await Promise.all([
      tsWorker.waitForLine(new RegExp(`serving .*${napType}`)),
      pyWorker.waitForLine(new RegExp(`serving ${pyType}`)),
    ]);
  });
  afterAll(async () => {
    for (const worker of [tsWorker, pyWorker]) {
      if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
        worker.child.kill('SIGKILL');
        await worker.exited;
      }
    }
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists a TypeScript and a Python worker process with their job types and capacity', async () => {
    const ts = await entryOf(napType, (worker) => worker.types.length === 2);
    expect(ts).toMatchObject({
      kind: 'native',
      identity: `ts-${suffix}`,
      pid: String(tsWorker.child.pid),
      types: [
        { type: echoType, capacity: 2, running: 0 },
        { type: napType, capacity: 2, running: 0 },
      ],
      capacity: 4,
      jobsRunning: 0,
      draining: false,
      lost: false,
    });
    expect(ts.version).toMatch(/^temporal-typescript 1\.24\./);
    expect(ts.host).toBeTruthy();
    expect(Date.parse(ts.startedAt ?? '')).toBeLessThanOrEqual(Date.parse(ts.lastHeartbeatAt));
    const py = await entryOf(pyType, () => true);
    expect(py).toMatchObject({
      kind: 'native',
      identity: `py-${suffix}`,
      pid: String(pyWorker.child.pid),
      types: [{ type: pyType, capacity: 3, running: 0 }],
      draining: false,
      lost: false,
    });
    expect(py.version).toMatch(/^temporal-python 1\./);
  });

  it('is for admin keys only, and a burst of requests makes one Temporal call', async () => {
    const denied = await stack.app.inject({ method: 'GET', url: '/v1/workers', headers: auth(SUBMIT) });
    expect(denied.statusCode).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 2100)); // past the 2 s reuse window
    const calls = vi.spyOn(stack.client.workflowService, 'listWorkers');
    try {
      await Promise.all(Array.from({ length: 10 }, () => list()));
      expect(calls).toHaveBeenCalledTimes(1);
    } finally {
      calls.mockRestore();
    }
  });

  it("serves the Python worker's metrics and the SDK's while a job runs", async () => {
    const job = await submit(pyType, { seconds: 4 });
    await waitFor(
      () => view(job.id),
      (v) => v.status === 'IN_PROGRESS',
    );
    const scrape = async (port: number) => new Scrape(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    const during = await scrape(metricsPort);
    expect(during.value('gpuflow_worker_jobs_running', { type: pyType })).toBe(1);
    expect(during.value('gpuflow_worker_capacity', { type: pyType })).toBe(3);
    expect(during.family('gpuflow_worker_heartbeat_failures_total')?.type).toBe('COUNTER');
    const running = await entryOf(pyType, (worker) => worker.jobsRunning === 1);
    expect(running.types).toEqual([{ type: pyType, capacity: 3, running: 1 }]);
    await waitFor(
      () => view(job.id),
      (v) => v.status === 'COMPLETED',
    );
    const after = await scrape(metricsPort);
    expect(after.count('gpuflow_worker_attempt_duration_seconds', { type: pyType, outcome: 'completed' })).toBe(1);
    expect(after.value('gpuflow_worker_jobs_running', { type: pyType })).toBe(0);
    const sdk = await waitFor(
      () => scrape(sdkMetricsPort),
      (s) => s.families.some((family) => family.name.startsWith('temporal_activity_execution')),
    );
    expect(sdk.families.some((family) => family.name === 'temporal_worker_start_total')).toBe(true);
  });

  it('shows a SIGTERMed worker draining while its job finishes', async () => {
    const job = await submit(napType, { ms: 8000 });
    await waitFor(
      () => view(job.id),
      (v) => v.status === 'IN_PROGRESS',
    );
    tsWorker.child.kill('SIGTERM');
    // The first draining beat can go out at once on SIGTERM with its slot count a moment behind (seen once in a full
    // run, 174 ms after the submission: the job IN_PROGRESS, the beat saying 0 running); the next beat counts it.
    const runningNap = (worker: WorkerEntry) => worker.types.find((entry) => entry.type === napType)?.running;
    const draining = await entryOf(napType, (worker) => worker.draining && runningNap(worker) === 1, 15_000);
    expect(draining).toMatchObject({ identity: `ts-${suffix}`, lost: false });
    await waitFor(
      () => view(job.id),
      (v) => v.status === 'COMPLETED',
      30_000,
    );
    expect(await tsWorker.exited).toBe(0);
  });

  it('shows a SIGKILLed worker lost within the bound, and keeps listing it', async () => {
    pyWorker.child.kill('SIGKILL');
    const killedAt = Date.now();
    const lost = await entryOf(pyType, (worker) => worker.lost, 20_000);
    const { lostAfterMs } = await list();
    expect(lostAfterMs).toBe(3000);
    // The bound, one heartbeat period, the 2 s reuse window and a loaded machine's slack.
    expect(Date.now() - killedAt).toBeLessThan(lostAfterMs + 1000 + 2000 + 8000);
    expect(lost).toMatchObject({ identity: `py-${suffix}`, draining: false });
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    expect(serving(pyType)(await list())).toMatchObject({ identity: `py-${suffix}`, lost: true });
  }, 60_000);

  it("lists the gateway's HTTP runners as workers of kind runner", async () => {
    const take = stack.app.inject({
      method: 'GET',
      url: `/runpod-worker/${runnerType}/job-take/runner-${suffix}`,
      headers: auth(ADMIN),
    });
    const runner = await entryOf(runnerType, (worker) => worker.kind === 'runner', 10_000);
    expect(runner).toMatchObject({
      identity: `runner-${suffix}`,
      types: [{ type: runnerType, capacity: null, running: 0 }],
      jobsRunning: 0,
      draining: false,
      lost: false,
    });
    await take;
  });
});
