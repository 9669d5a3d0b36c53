import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobView, StreamChunk } from '../../contracts/job.js';
import { resolvePython } from '../../scripts/python-env.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { DirectoryBlobStore } from '../../storage/directory-blob-store.js';
import { runProcess, type GpuflowProcess } from '../support/processes.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

/**
 * A real `gpuflow-worker` process (the Python SDK) serving jobs that the TypeScript API and orchestrator run:
 * what a user sees must be what a TS worker gives.
 */
describe('python worker process', () => {
  const suffix = uniqueSuffix();
  const t = (name: string) => `${name}-${suffix}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'gpuflow-py-'));
  const handlers = join(dataDir, 'handlers.py');
  let stack: TestStack;
  let worker: GpuflowProcess;

  beforeAll(async () => {
    writeFileSync(
      handlers,
      `import asyncio, time
from pydantic import BaseModel
import gpuflow

class Steps(BaseModel):
    steps: int

@gpuflow.job("${t('py-progress')}", input=Steps, setup=lambda: {"model": "weights-v1"})
def progress(input: Steps, ctx: gpuflow.Context):
    ctx.progress(40, "halfway")
    ctx.log("working on", input.steps, "steps")
    time.sleep(3)
    return {"steps": input.steps, "model": ctx.resources["model"], "worker": ctx.worker_id}

@gpuflow.job("${t('py-fail')}")
def fail(input, ctx):
    raise gpuflow.JobError("bad image", retryable=False)

@gpuflow.job("${t('py-async-cancel')}")
async def async_cancel(input, ctx):
    ctx.progress(1, "waiting")
    try:
        await asyncio.sleep(120)
    except asyncio.CancelledError:
        ctx.log("async handler got CancelledError")
        raise

@gpuflow.job("${t('py-sync-cancel')}")
def sync_cancel(input, ctx):
    ctx.progress(1, "waiting")
    while not ctx.cancelled:
        time.sleep(0.02)
    ctx.log("sync handler saw ctx.cancelled")

@gpuflow.job("${t('py-artifact')}")
def artifact(input, ctx):
    ctx.artifact("out.txt", "made in python", "text/plain")
    return {"stored": True}

@gpuflow.job("${t('py-big')}")
async def big(input, ctx):
    return {"length": len(input["data"]), "head": input["data"][:3]}

@gpuflow.job("${t('py-stream')}", aggregate_stream=True)
async def stream(input, ctx):
    for word in ["one", "two", "three"]:
        yield {"word": word}
        await asyncio.sleep(0.1)
`,
    );
    stack = await startStack({ blobs: new DirectoryBlobStore(join(dataDir, 'blobs')) });
    worker = runProcess(
      resolvePython(),
      ['-m', 'gpuflow', 'worker', handlers, '--capacity', '4', '--identity', `py-host-${suffix}`, '--grace', '5'],
      {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        GPUFLOW_DATA_DIR: dataDir,
        GPUFLOW_CONTROL_TASK_QUEUE: stack.controlTaskQueue,
        PYTHONPATH: join(PROJECT_ROOT, 'python', 'src'),
        PYTHONUNBUFFERED: '1',
      },
    );
    await worker.waitForLine(new RegExp(`serving .*${t('py-progress')}`), 120_000);
  }, 240_000);
  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const submit = async (type: string, input: unknown) => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type, input, dedup: false },
    });
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json<JobView>();
  };
  const view = async (id: string) => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();
  const ended = (id: string) =>
    waitFor(
      () => view(id),
      (v) => !['IN_QUEUE', 'IN_PROGRESS'].includes(v.status),
      60_000,
    );

  it('completes a job, with its progress in GET /v1/jobs/:id within about a second', async () => {
    const job = await submit(t('py-progress'), { steps: 3 });
    await worker.waitForLine(new RegExp(`${job.id}#1\\] working on 3 steps`), 30_000);
    const loggedAt = Date.now();
    const shown = await waitFor(
      () => view(job.id),
      (v) => v.progress?.percent === 40,
      10_000,
    );
    const lagMs = Date.now() - loggedAt;
    expect(shown.progress).toEqual({ percent: 40, message: 'halfway' });
    expect(shown.status).toBe('IN_PROGRESS');
    // The handler reported progress just before that log line; the view must show it within about a second.
    expect(lagMs).toBeLessThan(2500);
    const done = await ended(job.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.output).toEqual({ steps: 3, model: 'weights-v1', worker: `py-host-${suffix}` });
    expect(done.workerId).toBe(`py-host-${suffix}`);
    expect(done.attempt).toBe(1);
  }, 60_000);

  it('fails at once on JobError(retryable=False) and on an input that does not fit the model', async () => {
    const failed = await ended((await submit(t('py-fail'), {})).id);
    expect(failed.status).toBe('FAILED');
    expect(failed.attempt).toBe(1);
    expect(failed.error).toMatchObject({ type: 'JobError', message: 'bad image', retryable: false });
    // Refused at submit once the API has read the schema the worker published (pydantic's), else by the worker.
    const bad = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: t('py-progress'), input: { steps: 'many' }, dedup: false },
    });
    if (bad.statusCode === 400) {
      expect(bad.json()).toMatchObject({ code: 'GPUFLOW_ERR_VALIDATION' });
      expect(bad.json<{ message: string }>().message).toMatch(/input\.steps/);
    } else {
      const invalid = await ended(bad.json<JobView>().id);
      expect(invalid.status).toBe('FAILED');
      expect(invalid.attempt).toBe(1);
      expect(invalid.error).toMatchObject({ type: 'ValidationError', retryable: false });
      expect(invalid.error?.message).toMatch(/^input\.steps: Input should be a valid integer/);
    }
  }, 90_000);

  it('cancels an async handler (CancelledError) and a sync handler (ctx.cancelled)', async () => {
    for (const [type, line] of [
      [t('py-async-cancel'), 'async handler got CancelledError'],
      [t('py-sync-cancel'), 'sync handler saw ctx.cancelled'],
    ] as const) {
      // A silent handler learns of a cancel at its next lease renewal (a third of the lease): a 3 s lease here.
      const submitted = await stack.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: { type, input: {}, dedup: false, policy: { heartbeatTimeoutMs: 3000 } },
      });
      expect(submitted.statusCode, submitted.body).toBe(201);
      const job = submitted.json<JobView>();
      await waitFor(
        () => view(job.id),
        (v) => v.progress?.percent === 1,
        30_000,
      );
      const cancelledAt = Date.now();
      const response = await stack.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel` });
      expect(response.statusCode, response.body).toBeLessThan(300);
      await worker.waitForLine(new RegExp(`${job.id}#1\\] ${line}`), 15_000);
      const reachedMs = Date.now() - cancelledAt;
      expect(reachedMs).toBeLessThan(5000);
      expect((await ended(job.id)).status).toBe('CANCELLED');
    }
  }, 120_000);

  it('stores an artifact that downloads through the API', async () => {
    const done = await ended((await submit(t('py-artifact'), {})).id);
    expect(done.status).toBe('COMPLETED');
    expect(done.artifacts).toEqual([
      { name: 'out.txt', size: 14, contentType: 'text/plain', url: `/v1/jobs/${done.id}/artifacts/out.txt` },
    ]);
    const file = await stack.app.inject({ method: 'GET', url: done.artifacts[0]!.url });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toMatch(/^text\/plain/);
    expect(file.body).toBe('made in python');
  }, 60_000);

  it('reads a 10 MB input that travels by reference', async () => {
    const data = 'abc'.repeat(3_500_000);
    const done = await ended((await submit(t('py-big'), { data })).id);
    expect(done.status).toBe('COMPLETED');
    expect(done.output).toEqual({ length: data.length, head: 'abc' });
  }, 90_000);

  it('streams chunks over the JSON polling route, with the aggregated output', async () => {
    const job = await submit(t('py-stream'), {});
    const polled = await waitFor(
      async () =>
        (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/stream?after=0` })).json<{
          chunks: StreamChunk[];
          done: boolean;
        }>(),
      (page) => page.done,
      60_000,
    );
    expect(polled.chunks.map((chunk) => chunk.data)).toEqual([{ word: 'one' }, { word: 'two' }, { word: 'three' }]);
    expect(polled.chunks.map((chunk) => chunk.seq)).toEqual([1, 2, 3]);
    expect((await view(job.id)).output).toEqual([{ word: 'one' }, { word: 'two' }, { word: 'three' }]);
  }, 90_000);

  it('drains on SIGTERM and exits 0', async () => {
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output.join('\n')).toMatch(/SIGTERM, draining[\s\S]*drained, exiting/);
  }, 60_000);
});
