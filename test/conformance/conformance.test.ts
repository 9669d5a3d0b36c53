import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobView, StreamChunk } from '../../contracts/job.js';
import { isBlobRef } from '../../protocol/blobs.js';
import { DirectoryBlobStore } from '../../storage/directory-blob-store.js';
import { readSse } from '../support/sse.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';
import { WORKER_IMPLS } from './impls/index.js';
import { TYPE_SUFFIX_VAR, type ConformanceFeature, type ConformanceType, type WorkerProcess } from './worker-impl.js';

/**
 * One set of scenarios, run against every worker implementation: what a user sees through the API must not depend
 * on the language (or the gateway) a worker is written in.
 */
describe.each(WORKER_IMPLS)('conformance: $name worker', (impl) => {
  const dataDir = mkdtempSync(join(tmpdir(), `gpuflow-conf-${impl.name}-`));
  const shared = uniqueSuffix();
  const started: WorkerProcess[] = [];
  let stack: TestStack;
  let base: string;
  /** A scenario that needs `feature`: skipped, with the implementation's reason in its name, where it lacks it. */
  const needs = (feature: ConformanceFeature) => {
    const reason = impl.lacks?.[feature];
    return reason === undefined
      ? it
      : (name: string, fn: () => Promise<void>) => it.skip(`${name} [skipped by design: ${reason}]`, fn);
  };
  const checkpoints = impl.lacks?.checkpoint === undefined;

  const startWorker = async (options: {
    suffix: string;
    types?: readonly ConformanceType[];
    capacity?: number;
    graceSeconds?: number;
    dataDir?: string;
  }) => {
    const worker = await impl.start({
      types: options.types ?? impl.types,
      apiUrl: base,
      capacity: options.capacity ?? 4,
      identity: `${impl.name}-${uniqueSuffix()}`,
      graceSeconds: options.graceSeconds ?? 20,
      env: {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        GPUFLOW_DATA_DIR: options.dataDir ?? dataDir,
        [TYPE_SUFFIX_VAR]: options.suffix,
      },
    });
    started.push(worker);
    return worker;
  };
  const submit = async (type: string, input: unknown, extra: object = {}) => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type, input, dedup: false, ...extra },
    });
    expect(response.statusCode).toBe(201);
    return response.json<JobView>();
  };
  const view = async (id: string) => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();
  const until = (id: string, done: (v: JobView) => boolean, timeoutMs?: number) =>
    waitFor(() => view(id), done, timeoutMs);
  /** Two views' start times agree (one may be the worker's clock, the other the server's). */
  const near = (a: string | null, b: string | null) =>
    a !== null && b !== null && Math.abs(Date.parse(a) - Date.parse(b)) < 2000;
  const ended = (v: JobView) => ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'].includes(v.status);

  beforeAll(async () => {
    // The worker gateway too, for HTTP runners; its long-polls short, so that a drained runner exits soon.
    stack = await startStack({ blobs: new DirectoryBlobStore(join(dataDir, 'blobs')), gateway: { holdMs: 2000 } });
    base = await stack.app.listen({ port: 0, host: '127.0.0.1' });
    await startWorker({ suffix: shared });
  }, 120_000);
  afterEach(() => {
    // Workers of one scenario only (the shared one, started first, stays).
    for (const worker of started.splice(1)) worker.kill('SIGKILL');
  });
  afterAll(async () => {
    for (const worker of started) worker.kill('SIGKILL');
    await Promise.all(started.map((worker) => worker.process.exited));
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('completes a job, with progress in GET /v1/jobs/:id within about a second', async () => {
    const job = await submit(`conf-sleep-${shared}`, { seconds: 3 });
    await until(job.id, (v) => v.status === 'IN_PROGRESS');
    const runningAt = Date.now();
    // The handler reports "slept 1 of 3" one second into the job: it shows within about a second after that.
    const running = await until(job.id, (v) => /slept [12] of 3/.test(v.progress?.message ?? ''));
    expect(Date.now() - runningAt).toBeLessThan(3500);
    const done = await until(job.id, ended);
    expect(done).toMatchObject({ status: 'COMPLETED', attempt: 1, output: { slept: 3, resumedFrom: 0 } });
    if (checkpoints) expect(done.output).toMatchObject({ attempt: 1 });
    expect(done.workerId).toBe(started[0]!.identityOf('conf-sleep'));
    // The running job names its worker too (from the attempt's start report: in the first moments before that
    // lands, a gateway job shows the gateway's Temporal identity, so this looks once progress is in).
    expect(running.workerId).toBe(started[0]!.identityOf('conf-sleep'));
  });

  // A handler that reports nothing learns of a cancel at the next lease renewal, a third of its lease (10 s with
  // the default 30 s): the silent one runs with a 3 s lease, renewed every second.
  const cancelScenario = (type: ConformanceType, policy?: { heartbeatTimeoutMs: number }) => async () => {
    const job = await submit(`${type}-${shared}`, { seconds: 60 }, policy ? { policy } : undefined);
    const running = await until(job.id, (v) => v.status === 'IN_PROGRESS' && v.progress != null);
    const cancelledAt = Date.now();
    const cancel = await stack.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel` });
    expect(cancel.statusCode).toBeLessThan(300);
    await started[0]!.process.waitForLine(new RegExp(`${type} stopped: ${job.id}`), 10_000);
    expect(Date.now() - cancelledAt).toBeLessThan(3000);
    // The cancelled job still names its attempt and worker, and shows how far it got.
    const cancelled = await until(job.id, ended);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', attempt: 1, workerId: started[0]!.identityOf(type) });
    expect(near(cancelled.startedAt, running.startedAt)).toBe(true);
    expect(cancelled.progress?.percent).toBeGreaterThanOrEqual(running.progress!.percent);
  };
  it('delivers a cancel to an async handler within about a second', cancelScenario('conf-sleep'));
  needs('sync-cancel')(
    'delivers a cancel to a silent sync handler within about a second of a lease renewal',
    cancelScenario('conf-spin', { heartbeatTimeoutMs: 3000 }),
  );

  it(`retries the job of a SIGKILLed worker on another worker, ${checkpoints ? 'from its checkpoint' : `from the start (${impl.lacks?.checkpoint})`}`, async () => {
    const suffix = uniqueSuffix();
    const doomed = await startWorker({ suffix, types: ['conf-sleep'], capacity: 1 });
    const job = await submit(`conf-sleep-${suffix}`, { seconds: 6 }, { policy: { heartbeatTimeoutMs: 2000 } });
    await until(job.id, (v) => v.status === 'IN_PROGRESS' && /slept [2-5] of 6/.test(v.progress?.message ?? ''));
    doomed.kill('SIGKILL');
    expect(await doomed.process.exited).toBe('SIGKILL');
    // Waiting for its retry, the job names the attempt that was lost, its worker and its start.
    const waiting = await until(job.id, (v) => v.status === 'IN_QUEUE', 20_000);
    expect(waiting).toMatchObject({ attempt: 1, workerId: doomed.identityOf('conf-sleep') });
    expect(waiting.startedAt).not.toBeNull();
    const rescuer = await startWorker({ suffix, types: ['conf-sleep'], capacity: 1 });
    const done = await until(job.id, ended, 40_000);
    expect(done).toMatchObject({ status: 'COMPLETED', attempt: 2, workerId: rescuer.identityOf('conf-sleep') });
    const output = done.output as { resumedFrom: number; slept: number };
    expect(output.slept).toBe(6);
    if (checkpoints) expect(output.resumedFrom).toBeGreaterThanOrEqual(1);
    else expect(output.resumedFrom).toBe(0);
  });

  it('names the last attempt of a job its worker never ended: a lost worker, the TTL', async () => {
    const suffix = uniqueSuffix();
    const doomed = await startWorker({ suffix, types: ['conf-sleep'], capacity: 2 });
    const policy = { maxAttempts: 1, heartbeatTimeoutMs: 2000 };
    const lost = await submit(`conf-sleep-${suffix}`, { seconds: 60 }, { policy });
    const late = await submit(`conf-sleep-${suffix}`, { seconds: 60 }, { policy: { ttlMs: 4000 } });
    const running = await until(lost.id, (v) => v.status === 'IN_PROGRESS' && v.startedAt !== null);
    const lateEnd = await until(late.id, ended, 30_000);
    // The server recorded the Temporal identity that took the task: behind the gateway, the API's, not the runner's.
    const workerId: unknown = impl.name === 'runpod-gateway' ? expect.any(String) : doomed.identityOf('conf-sleep');
    expect(lateEnd).toMatchObject({ status: 'TIMED_OUT', attempt: 1, workerId, error: { type: 'TtlExpired' } });
    expect(lateEnd.startedAt).not.toBeNull();
    doomed.kill('SIGKILL');
    const lostEnd = await until(lost.id, ended, 30_000);
    expect(lostEnd).toMatchObject({ status: 'FAILED', attempt: 1, workerId, error: { type: 'WorkerLost' } });
    expect(near(lostEnd.startedAt, running.startedAt)).toBe(true);
    expect(lostEnd.executionTimeMs).toBeGreaterThan(0);
  });

  it('lets a running job finish on SIGTERM, then exits 0', async () => {
    const suffix = uniqueSuffix();
    const worker = await startWorker({ suffix, types: ['conf-sleep'], capacity: 1 });
    const job = await submit(`conf-sleep-${suffix}`, { seconds: 3 });
    await until(job.id, (v) => v.status === 'IN_PROGRESS');
    worker.kill('SIGTERM');
    expect(await worker.process.exited).toBe(0);
    expect(await view(job.id)).toMatchObject({
      status: 'COMPLETED',
      attempt: 1,
      workerId: worker.identityOf('conf-sleep'),
    });
  });

  needs('checkpoint')(
    'hands a drained job back without using an attempt: maxAttempts 1 resumes from its checkpoint',
    async () => {
      const suffix = uniqueSuffix();
      const drained = await startWorker({ suffix, types: ['conf-sleep'], capacity: 1, graceSeconds: 1 });
      const job = await submit(`conf-sleep-${suffix}`, { seconds: 8 }, { policy: { maxAttempts: 1 } });
      await until(job.id, (v) => v.status === 'IN_PROGRESS' && /slept [2-5] of 8/.test(v.progress?.message ?? ''));
      drained.kill('SIGTERM');
      expect(await drained.process.exited).toBe(0);
      expect(await view(job.id)).toMatchObject({ status: 'IN_QUEUE', attempt: 1 });
      const next = await startWorker({ suffix, types: ['conf-sleep'], capacity: 1 });
      const done = await until(job.id, ended, 40_000);
      expect(done).toMatchObject({ status: 'COMPLETED', attempt: 2, workerId: next.identityOf('conf-sleep') });
      const output = done.output as { resumedFrom: number; attempt: number };
      expect(output.attempt).toBe(2);
      expect(output.resumedFrom).toBeGreaterThanOrEqual(2);
    },
  );

  needs('artifact')(
    'fails a job at its first blob, naming both stores, when the worker has another blob store',
    async () => {
      const suffix = uniqueSuffix();
      const elsewhere = mkdtempSync(join(tmpdir(), `gpuflow-conf-elsewhere-${impl.name}-`));
      try {
        await startWorker({ suffix, types: ['conf-artifact'], capacity: 1, dataDir: elsewhere });
        const job = await submit(`conf-artifact-${suffix}`, { text: 'lost' });
        const failed = await until(job.id, ended, 30_000);
        expect(failed).toMatchObject({ status: 'FAILED', attempt: 1, error: { type: 'BlobStoreMismatch' } });
        expect(failed.error?.message).toContain(join(elsewhere, 'blobs'));
        expect(failed.error?.message).toContain(join(dataDir, 'blobs'));
      } finally {
        rmSync(elsewhere, { recursive: true, force: true });
      }
    },
  );

  needs('input-schema')('fails a schema failure at once, on its first attempt', async () => {
    const badInput = await submit(`conf-echo-${shared}`, { text: 5 });
    const schema = await until(badInput.id, ended, 15_000);
    expect(schema).toMatchObject({ status: 'FAILED', attempt: 1 });
    expect(JSON.stringify(schema.error)).toMatch(/text/);
  });

  it('fails a non-retryable error at once, on its first attempt', async () => {
    const nonRetryable = await submit(`conf-fail-${shared}`, { message: 'bad image', retryable: false });
    const failed = await until(nonRetryable.id, ended, 15_000);
    expect(failed).toMatchObject({ status: 'FAILED', attempt: 1 });
    expect(JSON.stringify(failed.error)).toContain('bad image');
  });

  it('streams chunks over SSE and JSON polling, with the aggregated output', async () => {
    const words = 'one two three four five six'.split(' ');
    const job = await submit(`conf-stream-${shared}`, { words, delayMs: 250 });
    const events = await readSse(`${base}/v1/jobs/${job.id}/stream`);
    const chunks = events.filter((e) => e.event === 'chunk').map((e) => e.data as StreamChunk);
    expect(chunks.map((c) => c.data)).toEqual(words);
    expect(chunks.map((c) => c.seq)).toEqual(words.map((_w, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'COMPLETED', output: words } });
    const polled = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/stream?after=2` });
    expect(polled.json<{ chunks: StreamChunk[]; done: boolean }>()).toMatchObject({ done: true });
    expect(polled.json<{ chunks: StreamChunk[] }>().chunks.map((c) => c.data)).toEqual(words.slice(2));
  });

  needs('artifact')('stores an artifact that downloads through the API', async () => {
    const text = `report of ${impl.name} ${shared}`;
    const job = await submit(`conf-artifact-${shared}`, { text });
    const done = await until(job.id, ended);
    expect(done.status).toBe('COMPLETED');
    expect(done.artifacts?.map((a) => a.name)).toEqual(['report.txt']);
    const download = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/artifacts/report.txt` });
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toMatch(/^text\/plain/);
    expect(download.body).toBe(text);
  });

  it('passes a 10 MB input by reference, not through the workflow history', async () => {
    const blob = 'z'.repeat(10 * 1024 * 1024);
    const job = await submit(`conf-echo-${shared}`, { text: 'big', blob });
    const done = await until(job.id, ended, 60_000);
    expect(done).toMatchObject({ status: 'COMPLETED', output: { text: 'big', blobLength: blob.length } });
    const { history } = await stack.client.workflowService.getWorkflowExecutionHistory({
      namespace: stack.client.options.namespace,
      execution: { workflowId: job.id },
      maximumPageSize: 1,
    });
    const payload = history!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(payload.data!.byteLength).toBeLessThan(4096);
    const started = stack.client.options.loadedDataConverter.payloadConverter.fromPayload<{ input: unknown }>(payload);
    expect(isBlobRef(started.input)).toBe(true);
  });

  it('holds its capacity: never more jobs at once than --capacity', async () => {
    const suffix = uniqueSuffix();
    await startWorker({ suffix, types: ['conf-sleep'], capacity: 2 });
    const jobs = await Promise.all([1, 2, 3, 4].map(() => submit(`conf-sleep-${suffix}`, { seconds: 2 })));
    await waitFor(
      async () => Promise.all(jobs.map((job) => view(job.id))),
      (views) => views.every(ended),
      40_000,
    );
    // When each handler ran, by its own clock: never three at once, and two at once (not one after another).
    const spans = await Promise.all(
      jobs.map(async (job) => (await view(job.id)).output as { ranFrom: number; ranTo: number }),
    );
    const overlapAt = (t: number) => spans.filter((s) => s.ranFrom <= t && t < s.ranTo).length;
    const most = Math.max(...spans.map((s) => overlapAt(s.ranFrom)));
    expect(most).toBe(2);
    for (const job of jobs) expect((await view(job.id)).status).toBe('COMPLETED');
  });
});
