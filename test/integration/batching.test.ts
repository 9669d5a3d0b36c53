import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobView } from '../../contracts/job.js';
import { defineJob } from '../../sdk/define-job.js';
import { JobError } from '../../sdk/job-error.js';
import { createJobWorker } from '../../workers/job-worker.js';
import { NAMESPACE, startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

/** What every batch handler here returns per item: which call ran it and how many items that call had. */
interface Ran {
  n: number;
  call: number;
  size: number;
}

describe('dynamic batching on a real Temporal server (TS worker)', () => {
  const suffix = uniqueSuffix();
  let calls = 0;
  const Input = z.object({ n: z.number().int() });
  const ran = (n: number, call: number, size: number): Ran => ({ n, call, size });
  const ranOf = (job: JobView) => job.output as unknown as Ran;

  // A long wait so that a burst submitted together lands in few batches even on a loaded machine.
  const burst = defineJob({
    type: `batch-burst-${suffix}`,
    input: Input,
    batch: { maxSize: 8, maxWaitMs: 1500 },
    handler(inputs) {
      const call = ++calls;
      return inputs.map(({ n }) => ran(n, call, inputs.length));
    },
  });
  const failing = defineJob({
    type: `batch-fail-${suffix}`,
    input: Input,
    batch: { maxSize: 8, maxWaitMs: 1500 },
    handler(inputs, ctx) {
      const call = ++calls;
      return inputs.map(({ n }, i) => {
        if (n === 13) return new JobError('unlucky item', { retryable: false, type: 'Unlucky' });
        // Fails its first attempt only: retried alone, under its own policy.
        if (n === 7 && ctx.items[i]!.attempt === 1) return new Error('flaky item');
        return ran(n, call, inputs.length);
      });
    },
  });
  const aborted: string[] = [];
  const slow = defineJob({
    type: `batch-slow-${suffix}`,
    input: Input,
    batch: { maxSize: 8, maxWaitMs: 1500 },
    async handler(inputs, ctx) {
      const call = ++calls;
      ctx.items.forEach((item, i) => {
        item.progress(10, `in a batch of ${inputs.length}`);
        item.signal.addEventListener('abort', () => aborted.push(item.jobId));
        item.log('item', i, 'of', inputs.length);
      });
      await sleep(6000, undefined, { signal: ctx.signal });
      return inputs.map(({ n }) => ran(n, call, inputs.length));
    },
  });
  const lone = defineJob({
    type: `batch-lone-${suffix}`,
    input: Input,
    batch: { maxSize: 8, maxWaitMs: 400 },
    handler(inputs) {
      const call = ++calls;
      return inputs.map(({ n }) => ran(n, call, inputs.length));
    },
  });
  const unbatched = defineJob({
    type: `unbatched-${suffix}`,
    input: Input,
    handler: ({ n }) => ran(n, 0, 1),
  });
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack();
    await stack.startJobWorker({ jobs: [burst, failing, slow, lone, unbatched], capacity: 16 });
  });
  afterAll(async () => stack?.stop());

  const submit = async (type: string, input: unknown): Promise<JobView> => {
    const res = await stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type, input, dedup: false } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<JobView>();
  };
  const view = async (id: string) => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();
  const ended = (id: string) =>
    waitFor(
      () => view(id),
      (v) => !['IN_QUEUE', 'IN_PROGRESS'].includes(v.status),
      60_000,
    );
  const submitAll = (type: string, ns: number[]) => Promise.all(ns.map((n) => submit(type, { n })));

  it('runs a burst of jobs in fewer handler calls, each job with its own output', async () => {
    const ns = [1, 2, 3, 4, 5, 6, 7, 8];
    const jobs = await submitAll(burst.type, ns);
    const done = await Promise.all(jobs.map((job) => ended(job.id)));
    for (const [i, job] of done.entries()) {
      expect(job.status).toBe('COMPLETED');
      expect(job.attempt).toBe(1);
      expect(ranOf(job).n).toBe(ns[i]);
    }
    const outputs = done.map((job) => ranOf(job));
    const handlerCalls = new Set(outputs.map((output) => output.call));
    expect(handlerCalls.size).toBeLessThan(ns.length);
    // Each call's reported size is the number of jobs that say they ran in it.
    for (const call of handlerCalls) {
      const inCall = outputs.filter((output) => output.call === call);
      expect(inCall.every((output) => output.size === inCall.length)).toBe(true);
    }
    expect(Math.max(...outputs.map((output) => output.size))).toBeGreaterThan(1);
  }, 90_000);

  it('fails only the item whose result is an error or whose input is bad; a retryable one is retried alone', async () => {
    const jobs = await submitAll(failing.type, [1, 13, 7, 2]);
    const bad = await submit(failing.type, { n: 'not a number' });
    const [one, unlucky, flaky, two] = await Promise.all(jobs.map((job) => ended(job.id)));
    expect(unlucky).toMatchObject({
      status: 'FAILED',
      attempt: 1,
      error: { type: 'Unlucky', message: 'unlucky item', retryable: false },
    });
    expect(flaky).toMatchObject({ status: 'COMPLETED', attempt: 2, output: { n: 7 } });
    expect(one).toMatchObject({ status: 'COMPLETED', attempt: 1, output: { n: 1 } });
    expect(two).toMatchObject({ status: 'COMPLETED', attempt: 1, output: { n: 2 } });
    // The failing items shared their first batch with items that completed.
    expect(ranOf(one!).size).toBeGreaterThan(1);
    const invalid = await ended(bad.id);
    expect(invalid).toMatchObject({
      status: 'FAILED',
      attempt: 1,
      error: { type: 'ValidationError', retryable: false },
    });
    expect(invalid.error?.message).toMatch(/^input\.n: /);
  }, 90_000);

  it('cancels one item of a running batch alone, at once, while the others complete', async () => {
    const jobs = await submitAll(slow.type, [1, 2, 3]);
    // Every item reports its own progress on its own lease while the batch runs.
    const running = await Promise.all(
      jobs.map((job) =>
        waitFor(
          () => view(job.id),
          (v) => v.status === 'IN_PROGRESS' && v.progress?.percent === 10,
          30_000,
        ),
      ),
    );
    const size = Number(/in a batch of (\d+)/.exec(running[0]!.progress?.message ?? '')?.[1]);
    expect(size).toBeGreaterThan(1);
    const victim = jobs[1]!;
    const cancelledAt = Date.now();
    const res = await stack.app.inject({ method: 'POST', url: `/v1/jobs/${victim.id}/cancel` });
    expect(res.statusCode, res.body).toBeLessThan(300);
    const cancelled = await ended(victim.id);
    expect(cancelled.status).toBe('CANCELLED');
    // Well before the 6 s batch could have ended: the item's attempt ended on its own cancel.
    expect(Date.now() - cancelledAt).toBeLessThan(5000);
    expect(aborted).toEqual([victim.id]);
    for (const job of [jobs[0]!, jobs[2]!]) {
      const done = await ended(job.id);
      expect(done).toMatchObject({ status: 'COMPLETED', attempt: 1, output: { n: job.id === jobs[0]!.id ? 1 : 3 } });
    }
  }, 90_000);

  it('runs a lone job after maxWaitMs as a batch of one, like an unbatched job', async () => {
    const [done, plain] = await Promise.all([
      submit(lone.type, { n: 42 }).then((job) => ended(job.id)),
      submit(unbatched.type, { n: 42 }).then((job) => ended(job.id)),
    ]);
    expect(done).toMatchObject({ status: 'COMPLETED', attempt: 1, output: { n: 42, size: 1 }, progress: null });
    // The same view as the unbatched twin's, field for field, bar the ids, times and which call ran it.
    expect(Object.keys(done).sort()).toEqual(Object.keys(plain).sort());
    expect({ ...ranOf(done), call: 0 }).toEqual(plain.output);
    expect(done.executionTimeMs).toBeGreaterThanOrEqual(400);
  }, 60_000);

  it('refuses a worker whose capacity could never fill a batch', async () => {
    await expect(
      createJobWorker({ connection: stack.connection, namespace: NAMESPACE, jobs: [burst], capacity: 4 }),
    ).rejects.toThrow(
      `worker capacity 4 can never fill a batch of ${burst.type} (batch.maxSize 8): every item of a batch holds one`,
    );
  });
});
