import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobView, StreamChunk } from '../../contracts/job.js';
import { PY_PYTHON, resolvePython } from '../../scripts/python-env.js';
import { PROJECT_ROOT, isExecutable } from '../../scripts/temporal-cli.js';
import { runProcess, type GpuflowProcess } from '../support/processes.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

const EXAMPLES = join(PROJECT_ROOT, 'examples', 'jobs', 'runpod');

/**
 * Unmodified RunPod Serverless handler files (examples/jobs/runpod), run with the real PyPI `runpod` package
 * (1.12.0, from python/requirements-dev.lock) through `gpuflow-worker --runpod FILE --type T`.
 */
describe('RunPod handler files through gpuflow-worker --runpod', () => {
  const suffix = uniqueSuffix();
  const workers: GpuflowProcess[] = [];
  let stack: TestStack;

  const serve = async (file: string, type: string) => {
    const python = isExecutable(PY_PYTHON) ? PY_PYTHON : resolvePython();
    const worker = runProcess(python, ['-m', 'gpuflow', 'worker', '--runpod', join(EXAMPLES, file), '--type', type], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      PYTHONPATH: join(PROJECT_ROOT, 'python', 'src'),
      PYTHONUNBUFFERED: '1',
      // RunPod's start-up checks (GPU, 8.8.8.8) are never reached through gpuflow; set anyway, as the docs ask.
      RUNPOD_SKIP_AUTO_SYSTEM_CHECKS: 'true',
      RUNPOD_SKIP_GPU_CHECK: 'true',
    });
    workers.push(worker);
    await worker.waitForLine(new RegExp(`serving ${type}`), 90_000);
    return worker;
  };
  const submit = async (type: string, input: unknown, extra: object = {}) =>
    (
      await stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type, input, dedup: false, ...extra } })
    ).json<JobView>();
  const view = async (id: string) => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();
  const ended = (v: JobView) => ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'].includes(v.status);

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await stack?.stop();
  });

  it('runs a sync handler: job {id, input}, progress_update as progress, the returned dict as output', async () => {
    const type = `rp-progress-${suffix}`;
    await serve('progress_handler.py', type);
    const job = await submit(type, { text: 'a b a c', steps: 4, delay: 0.6 });
    const progressed = await waitFor(
      () => view(job.id),
      (v) => /^[123]\/4$/.test(v.progress?.message ?? ''),
    );
    expect(progressed.progress!.percent).toBeGreaterThan(0);
    const done = await waitFor(() => view(job.id), ended);
    expect(done).toMatchObject({
      status: 'COMPLETED',
      output: { job_id: job.id, words: 4, counts: { a: 2, b: 1, c: 1 } },
    });
  });

  it('streams a generator handler, and return_aggregate_stream makes every chunk the output', async () => {
    const type = `rp-stream-${suffix}`;
    await serve('stream_handler.py', type);
    const job = await submit(type, { text: 'one two three', delay: 0.2 });
    const done = await waitFor(() => view(job.id), ended);
    expect(done).toMatchObject({ status: 'COMPLETED', output: ['ONE', 'TWO', 'THREE'] });
    const stream = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/stream?after=0` });
    expect(stream.json<{ chunks: StreamChunk[] }>().chunks.map((c) => c.data)).toEqual(['ONE', 'TWO', 'THREE']);
  });

  it('ends a returned {"error": ...} FAILED on its first attempt, not retried', async () => {
    const type = `rp-error-${suffix}`;
    await serve('error_handler.py', type);
    const job = await submit(type, { text: '   ' }, { policy: { maxAttempts: 3 } });
    const done = await waitFor(() => view(job.id), ended);
    expect(done).toMatchObject({ status: 'FAILED', attempt: 1 });
    expect(JSON.stringify(done.error)).toContain('text is empty');
    const fine = await submit(type, { text: 'four' });
    expect(await waitFor(() => view(fine.id), ended)).toMatchObject({ status: 'COMPLETED', output: { length: 4 } });
  });

  it('retries a handler that raises, under the job policy', async () => {
    const type = `rp-raise-${suffix}`;
    await serve('raising_handler.py', type);
    const job = await submit(type, { text: 'x' }, { policy: { maxAttempts: 2 } });
    const done = await waitFor(() => view(job.id), ended, 45_000);
    expect(done).toMatchObject({ status: 'FAILED', attempt: 2 });
    expect(JSON.stringify(done.error)).toContain('model crashed');
  });

  it('runs an async handler, its concurrency_modifier as the capacity (3 jobs at once)', async () => {
    const type = `rp-async-${suffix}`;
    await serve('async_handler.py', type);
    const jobs = await Promise.all(['abc', 'def', 'ghi'].map((text) => submit(type, { text, delay: 3 })));
    const startedAt = Date.now();
    const done = await Promise.all(jobs.map((job) => waitFor(() => view(job.id), ended)));
    expect(done.map((v) => v.output)).toEqual([
      { reversed: 'cba', job_id: jobs[0]!.id },
      { reversed: 'fed', job_id: jobs[1]!.id },
      { reversed: 'ihg', job_id: jobs[2]!.id },
    ]);
    // One after another would take 9 s.
    expect(Date.now() - startedAt).toBeLessThan(8000);
  });
});
