import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queues } from '../../contracts/admin.js';
import type { JobView } from '../../contracts/job.js';
import { defineJob } from '../../sdk/define-job.js';
import { resolvePython } from '../../scripts/python-env.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';
import { z } from 'zod';

const SUBMIT_KEY = 'submit-key-0123456789abcdef';
const WORKER_KEY = 'worker-key-0123456789abcdef';
const ADMIN_KEY = 'admin-key-0123456789abcdef';
const HANDLERS = fileURLToPath(new URL('../gateway-handlers/', import.meta.url));
const submitHeaders = { authorization: `Bearer ${SUBMIT_KEY}` };
const adminHeaders = { authorization: `Bearer ${ADMIN_KEY}` };

let stack: TestStack;
let base: string;
let python: string;
const runners = new Set<ChildProcess>();
const timings: { handOutMs: number; doneMs: number }[] = [];

beforeAll(async () => {
  python = resolvePython();
  stack = await startStack({
    apiKeys: [
      { key: SUBMIT_KEY, role: 'submit' },
      { key: WORKER_KEY, role: 'worker' },
      { key: ADMIN_KEY, role: 'admin' },
    ],
    gateway: { holdMs: 5000, onTiming: (timing) => timings.push(timing) },
  });
  base = await stack.app.listen({ host: '127.0.0.1', port: 0 });
}, 120_000);

afterAll(async () => {
  for (const runner of runners) killRunner(runner);
  await stack?.stop();
});

/** An unmodified runpod worker (`python handler.py`), pointed at the gateway by environment variables only. */
function startRunner(handler: string, type: string, worker: string): ChildProcess & { output: string[] } {
  const prefix = `${base}/runpod-worker/${type}`;
  const child = spawn(python, [join(HANDLERS, handler)], {
    // Its own process group: the runpod SDK's ping process outlives a SIGKILLed main process (A.5).
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: mkdtempSync(join(tmpdir(), 'runpod-home-')),
      RUNPOD_WEBHOOK_GET_JOB: `${prefix}/job-take/$ID?`,
      RUNPOD_WEBHOOK_POST_OUTPUT: `${prefix}/job-done/$RUNPOD_POD_ID/$ID?`,
      RUNPOD_WEBHOOK_POST_STREAM: `${prefix}/job-stream/$RUNPOD_POD_ID/$ID?`,
      RUNPOD_WEBHOOK_PING: `${prefix}/ping/$RUNPOD_POD_ID?`,
      RUNPOD_AI_API_KEY: WORKER_KEY,
      RUNPOD_POD_ID: worker,
      RUNPOD_PING_INTERVAL: '1000',
      RUNPOD_SKIP_AUTO_SYSTEM_CHECKS: 'true',
      RUNPOD_SKIP_GPU_CHECK: 'true',
      RUNPOD_LOG_LEVEL: 'INFO',
    },
  }) as ChildProcess & { output: string[] };
  child.output = [];
  const keep = (data: Buffer): void => void child.output.push(data.toString());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  runners.add(child);
  return child;
}

function killRunner(runner: ChildProcess): void {
  try {
    if (runner.pid) process.kill(-runner.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  runners.delete(runner);
}

async function submit(type: string, input: unknown, policy: Record<string, unknown> = {}): Promise<string> {
  const res = await stack.app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: submitHeaders,
    payload: { type, input, policy: { maxAttempts: 1, ...policy } },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<JobView>().id;
}

async function view(id: string): Promise<JobView> {
  const res = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: submitHeaders });
  return res.json();
}

const ENDED = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'];
const ended = (id: string, timeoutMs = 60_000): Promise<JobView> =>
  waitFor(
    () => view(id),
    (job) => ENDED.includes(job.status),
    timeoutMs,
  );

describe('RunPod worker gateway', () => {
  it('runs a sync handler with progress updates, and counts the runner as running, then idle', async () => {
    const type = `rp-sync-${uniqueSuffix()}`;
    startRunner('sync_handler.py', type, `sync-${type}`);
    const id = await submit(type, { hello: 'world', progress_steps: 3, sleep: 1.5 });
    const running = await waitFor(
      () => view(id),
      (job) => job.progress !== null && job.progress.percent >= 50,
      60_000,
    );
    expect(running.status).toBe('IN_PROGRESS');
    expect(JSON.parse(running.progress?.message ?? 'null') as unknown).toHaveProperty('step');
    const queues = await stack.app.inject({ method: 'GET', url: '/v1/queues', headers: submitHeaders });
    expect(queues.statusCode).toBe(403); // operator views need an admin key
    expect(stack.app.gateway?.runners.runnersOf(type)).toEqual({ idle: 0, running: 1 });
    // An operator sees the HTTP runner in the type's queue, next to the gateway's Temporal poller.
    const queueOf = async () => {
      const res = await stack.app.inject({ method: 'GET', url: '/v1/queues', headers: adminHeaders });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<Queues>().queues.find((queue) => queue.type === type);
    };
    expect((await queueOf())?.runners).toMatchObject({
      idle: 0,
      running: 1,
      list: [{ worker: `sync-${type}`, types: [type], jobs: 1 }],
    });
    const done = await ended(id);
    expect(done).toMatchObject({ status: 'COMPLETED', output: { echo: { hello: 'world' }, job_id: id } });
    expect(done.workerId).toBe(`sync-${type}`);
    // A late progress post (progress_update runs in a thread) never reopens the job.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await view(id)).status).toBe('COMPLETED');
    await waitFor(
      async () => stack.app.gateway?.runners.runnersOf(type),
      (counts) => counts?.idle === 1 && counts.running === 0,
    );
    const idle = await queueOf();
    expect(idle?.runners).toMatchObject({ idle: 1, running: 0, list: [{ worker: `sync-${type}`, jobs: 0 }] });
    expect(Date.parse(idle!.runners.list[0]!.lastSeenAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(idle?.workers.length).toBeGreaterThan(0); // the gateway's own poller of jobs.<type>
  }, 120_000);

  it('streams a generator and completes with the aggregated chunks', async () => {
    const type = `rp-stream-${uniqueSuffix()}`;
    startRunner('stream_handler.py', type, `stream-${type}`);
    const words = ['one', 'two', 'three', 'four'];
    const id = await submit(type, { words });
    const done = await ended(id);
    expect(done).toMatchObject({ status: 'COMPLETED', output: words.map((word) => ({ word })) });
    const res = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}/stream?after=0`, headers: submitHeaders });
    const polled = res.json<{ chunks: { data: unknown }[]; done: boolean }>();
    expect(polled.chunks.map((chunk) => chunk.data)).toEqual(words.map((word) => ({ word })));
  }, 120_000);

  it('ends FAILED, not retried, on an error dict and on a raised exception', async () => {
    const type = `rp-error-${uniqueSuffix()}`;
    startRunner('error_handler.py', type, `error-${type}`);
    const returned = await submit(type, { mode: 'dict' }, { maxAttempts: 3 });
    const raised = await submit(type, { mode: 'raise' }, { maxAttempts: 3 });
    const a = await ended(returned);
    expect(a).toMatchObject({ status: 'FAILED', attempt: 1, error: { type: 'RunPodError' } });
    expect(a.error?.message).toBe("Input is missing the 'seed' key.");
    const b = await ended(raised);
    expect(b).toMatchObject({ status: 'FAILED', attempt: 1, error: { type: 'RunPodError' } });
    expect(JSON.parse(b.error?.message ?? '{}')).toMatchObject({ error_message: 'boom from the handler' });
  }, 120_000);

  it('runs async jobs two at a time, stops a cancelled one through job-stop, and times one out', async () => {
    const type = `rp-async-${uniqueSuffix()}`;
    const runner = startRunner('async_handler.py', type, `async-${type}`);
    const long = await submit(type, { sleep: 60 });
    const short = await submit(type, { sleep: 1 });
    await waitFor(
      () => view(long),
      (job) => job.status === 'IN_PROGRESS',
    );
    expect(await ended(short)).toMatchObject({ status: 'COMPLETED', output: { slept: 1 } });
    const cancel = await stack.app.inject({ method: 'POST', url: `/v1/jobs/${long}/cancel`, headers: submitHeaders });
    expect(cancel.statusCode).toBeLessThan(300);
    expect(await ended(long, 30_000)).toMatchObject({ status: 'CANCELLED' });
    expect(runner.output.join('')).toContain(`STOPPED ${long}`);

    const slow = await submit(type, { sleep: 60 }, { executionTimeoutMs: 3000 });
    expect(await ended(slow, 30_000)).toMatchObject({ status: 'TIMED_OUT' });
    await waitFor(
      async () => runner.output.join(''),
      (out) => out.includes(`STOPPED ${slow}`),
      15_000,
    );
  }, 180_000);

  it("retries a SIGKILLed runner's job on another worker", async () => {
    const type = `rp-kill-${uniqueSuffix()}`;
    const first = startRunner('sync_handler.py', type, `doomed-${type}`);
    const id = await submit(type, { sleep: 30 }, { maxAttempts: 2, heartbeatTimeoutMs: 3000 });
    // The view names the runner (from the attempt's report), not the gateway's Temporal worker.
    await waitFor(
      () => view(id),
      (job) => job.status === 'IN_PROGRESS' && job.workerId === `doomed-${type}`,
    );
    killRunner(first);
    startRunner('sync_handler.py', type, `rescuer-${type}`);
    const done = await waitFor(
      () => view(id),
      (job) => ENDED.includes(job.status),
      90_000,
    );
    expect(done).toMatchObject({ status: 'COMPLETED', attempt: 2, workerId: `rescuer-${type}` });
  }, 150_000);

  it('shares one type between a native TS worker and a RunPod runner', async () => {
    const type = `rp-shared-${uniqueSuffix()}`;
    const native = defineJob({
      type,
      input: z.object({ hello: z.string() }).loose(),
      handler: async (input) => {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return { echo: input, native: true };
      },
    });
    await stack.startJobWorker({ jobs: [native], identity: `native-${type}` });
    startRunner('sync_handler.py', type, `runpod-${type}`);
    await waitFor(
      async () => stack.app.gateway?.runners.runnersOf(type).idle,
      (idle) => idle === 1,
    );
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => submit(type, { hello: `n${i}` })));
    const views = await Promise.all(ids.map((id) => ended(id, 90_000)));
    expect(views.every((job) => job.status === 'COMPLETED')).toBe(true);
    const workers = new Set(views.map((job) => job.workerId));
    expect(workers).toEqual(new Set([`native-${type}`, `runpod-${type}`]));
  }, 150_000);

  it('refuses a worker key on everything but the worker routes', async () => {
    const worker = { authorization: WORKER_KEY };
    const post = await stack.app.inject({ method: 'POST', url: '/v1/jobs', headers: worker, payload: {} });
    expect(post.statusCode).toBe(403);
    const read = await stack.app.inject({ method: 'GET', url: '/v1/jobs/x', headers: worker });
    expect(read.statusCode).toBe(403);
    const ping = await stack.app.inject({
      method: 'GET',
      url: '/runpod-worker/some-type/ping/w1?status=unhealthy&check=cpu&reason=test',
      headers: worker,
    });
    expect(ping.statusCode).toBe(200);
  });

  it('reports the gateway time per job', () => {
    expect(timings.length).toBeGreaterThan(5);
    const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);
    const handOut = sorted(timings.map((t) => t.handOutMs));
    const done = sorted(timings.map((t) => t.doneMs));
    const median = (values: number[]): number => values[Math.floor(values.length / 2)] ?? 0;
    process.stdout.write(
      `gateway ms per job over ${timings.length}: hand-out median ${median(handOut).toFixed(2)}, ` +
        `done median ${median(done).toFixed(2)}, total median ${(median(handOut) + median(done)).toFixed(2)}\n`,
    );
    expect(median(handOut) + median(done)).toBeLessThan(1000);
  });
});
