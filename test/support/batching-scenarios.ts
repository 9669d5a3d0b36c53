import { expect, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import { waitFor, type TestStack } from './stack.js';

/** What every batch handler of these scenarios returns per item: which call ran it and how many items it had. */
export interface Ran {
  n: number;
  call: number;
  size: number;
}

/**
 * The job types a worker implementation serves for these scenarios, each `batch: { maxSize: 8 }` on a worker of
 * capacity 16, input `{ n: integer }`, output `Ran` per item:
 * - `burst` (maxWaitMs 1500): every item completes;
 * - `failing` (maxWaitMs 1500): n = 13 → a non-retryable error of type `Unlucky`, message `unlucky item`;
 *   n = 7 → a retryable error on its first attempt only;
 * - `slow` (maxWaitMs 1500): reports progress 10 `in a batch of <size>` for every item, then waits 6 s unless
 *   every item is cancelled;
 * - `lone` (maxWaitMs 400); `unbatched`: the same handler, unbatched, with `call` 0.
 */
export interface BatchingTypes {
  burst: string;
  failing: string;
  slow: string;
  lone: string;
  unbatched: string;
}

/** The scenarios every worker implementation's batching passes, as a user sees them through the API. */
export function batchingScenarios(
  get: () => TestStack,
  types: BatchingTypes,
  options: { cancelSeen?: (jobId: string) => Promise<void> } = {},
): void {
  const ranOf = (job: JobView) => job.output as unknown as Ran;
  const submit = async (type: string, input: unknown, policy?: object): Promise<JobView> => {
    const payload = { type, input, dedup: false, ...(policy ? { policy } : {}) };
    const res = await get().app.inject({ method: 'POST', url: '/v1/jobs', payload });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<JobView>();
  };
  const view = async (id: string) => (await get().app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();
  const ended = (id: string) =>
    waitFor(
      () => view(id),
      (v) => !['IN_QUEUE', 'IN_PROGRESS'].includes(v.status),
      60_000,
    );
  const submitAll = (type: string, ns: number[], policy?: object) =>
    Promise.all(ns.map((n) => submit(type, { n }, policy)));

  it('runs a burst of jobs in fewer handler calls, each job with its own output', async () => {
    const ns = [1, 2, 3, 4, 5, 6, 7, 8];
    const jobs = await submitAll(types.burst, ns);
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
    const jobs = await submitAll(types.failing, [1, 13, 7, 2]);
    // Once the API has learned the type's input schema from its workers it refuses a bad input at submit; before,
    // the job runs and its item fails alone. Either way the bad job fails, and fails alone.
    const bad = await get().app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: types.failing, input: { n: 'not a number' }, dedup: false },
    });
    if (bad.statusCode === 400) {
      expect(bad.json<{ message: string }>().message).toMatch(/^input\.n: /);
    } else {
      expect(bad.statusCode, bad.body).toBe(201);
      const invalid = await ended(bad.json<JobView>().id);
      expect(invalid).toMatchObject({
        status: 'FAILED',
        attempt: 1,
        error: { type: 'ValidationError', retryable: false },
      });
      expect(invalid.error?.message).toMatch(/^input\.n: /);
    }
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
  }, 90_000);

  it('cancels one item of a running batch alone, at once, while the others complete', async () => {
    // A 3 s lease: a silent item renews it (and so learns of its cancel) every second, not every 10 s.
    const jobs = await submitAll(types.slow, [1, 2, 3], { heartbeatTimeoutMs: 3000 });
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
    const res = await get().app.inject({ method: 'POST', url: `/v1/jobs/${victim.id}/cancel` });
    expect(res.statusCode, res.body).toBeLessThan(300);
    const cancelled = await ended(victim.id);
    expect(cancelled.status).toBe('CANCELLED');
    // Well before the 6 s batch could have ended: the item's attempt ended on its own cancel.
    expect(Date.now() - cancelledAt).toBeLessThan(5000);
    await options.cancelSeen?.(victim.id);
    for (const job of [jobs[0]!, jobs[2]!]) {
      const done = await ended(job.id);
      expect(done).toMatchObject({ status: 'COMPLETED', attempt: 1, output: { n: job.id === jobs[0]!.id ? 1 : 3 } });
    }
  }, 90_000);

  it('runs a lone job after maxWaitMs as a batch of one, like an unbatched job', async () => {
    const [done, plain] = await Promise.all([
      submit(types.lone, { n: 42 }).then((job) => ended(job.id)),
      submit(types.unbatched, { n: 42 }).then((job) => ended(job.id)),
    ]);
    expect(done).toMatchObject({ status: 'COMPLETED', attempt: 1, output: { n: 42, size: 1 }, progress: null });
    // The same view as the unbatched twin's, field for field, bar the ids, times and which call ran it.
    expect(Object.keys(done).sort()).toEqual(Object.keys(plain).sort());
    expect({ ...ranOf(done), call: 0 }).toEqual(plain.output);
    expect(done.executionTimeMs).toBeGreaterThanOrEqual(400);
  }, 60_000);
}
