import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Stats, StatusCounts } from '../../contracts/admin.js';
import type { JobView } from '../../contracts/job.js';
import { EXACT_SPLIT_MAX } from '../../api/services/job-counts.js';
import { defineJob } from '../../sdk/define-job.js';
import { JobError } from '../../sdk/job-error.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

const KEYS = { admin: 'admin-key-0123456789abcdef', acme: 'acme-key-0123456789abcdef' };
const ZERO: StatusCounts = { IN_QUEUE: 0, IN_PROGRESS: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0, TIMED_OUT: 0 };

/** `/v1/stats` as a user reads it: jobs queued, running and finished, counted once each, per tenant. */
describe('job counts on a real Temporal server', () => {
  const suffix = uniqueSuffix();
  // Names whose job fails while they are in here (a retry after they are taken out completes).
  const failing = new Set(['broken', 'flaky']);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const work = defineJob({
    type: `work-${suffix}`,
    input: z.object({ name: z.string() }),
    handler: async (input) => {
      if (failing.has(input.name)) throw new JobError(`${input.name} is broken`, { retryable: false });
      if (input.name.startsWith('hold')) await released;
      return { ok: true };
    },
  });
  // No worker ever serves this type: its jobs wait in the queue.
  const idle = `idle-${suffix}`;
  let stack: TestStack;

  const get = async <T>(url: string, key = KEYS.admin): Promise<T> => {
    const res = await stack.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<T>();
  };
  const post = async (url: string, payload?: object, key = KEYS.admin): Promise<JobView> => {
    const res = await stack.app.inject({ method: 'POST', url, payload, headers: { authorization: `Bearer ${key}` } });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.json<JobView>();
  };
  const submit = (type: string, input: object, policy?: object, key?: string) =>
    post('/v1/jobs', { type, input, dedup: false, ...(policy ? { policy } : {}) }, key);
  const until = (id: string, status: string) =>
    waitFor(
      () => get<JobView>(`/v1/jobs/${id}`),
      (view) => view.status === status,
    );

  beforeAll(async () => {
    stack = await startStack({
      apiKeys: [
        { key: KEYS.admin, role: 'admin' },
        { key: KEYS.acme, role: 'submit', tenant: 'acme' },
      ],
    });
    await stack.startJobWorker({ jobs: [work], capacity: 4 });
    const once = { maxAttempts: 1 };
    const done = [await submit(work.type, { name: 'a' }), await submit(work.type, { name: 'b' })];
    const broken = await submit(work.type, { name: 'broken' }, once);
    const flaky = await submit(work.type, { name: 'flaky' }, once);
    // Its only attempt outlives executionTimeoutMs: the workflow fails and says TIMED_OUT.
    const slow = await submit(work.type, { name: 'hold-slow' }, { ...once, executionTimeoutMs: 1000 });
    const held = await submit(work.type, { name: 'hold' }, undefined, KEYS.acme);
    const queued = [await submit(idle, { n: 1 }), await submit(idle, { n: 2 }, undefined, KEYS.acme)];
    const cancelled = await submit(idle, { n: 3 });
    await post(`/v1/jobs/${cancelled.id}/cancel`);
    // Never started within its TTL: the workflow itself times out.
    const expired = await submit(idle, { n: 4 }, { ttlMs: 1500 });
    await until(flaky.id, 'FAILED');
    failing.delete('flaky');
    // A new run under the same id: the FAILED run is no longer a job.
    await post(`/v1/jobs/${flaky.id}/retry`);
    await Promise.all([
      ...[...done, flaky].map((job) => until(job.id, 'COMPLETED')),
      until(broken.id, 'FAILED'),
      until(slow.id, 'TIMED_OUT'),
      until(held.id, 'IN_PROGRESS'),
      until(cancelled.id, 'CANCELLED'),
      until(expired.id, 'TIMED_OUT'),
      ...queued.map((job) => until(job.id, 'IN_QUEUE')),
    ]);
  });
  afterAll(async () => {
    release?.();
    await stack?.stop();
  });

  it('counts every job once by its status, overall and per type, and a tenant its own jobs only', async () => {
    const expected: Stats = {
      byStatus: { IN_QUEUE: 2, IN_PROGRESS: 1, COMPLETED: 3, FAILED: 1, CANCELLED: 1, TIMED_OUT: 2 },
      byType: {
        [work.type]: { ...ZERO, IN_PROGRESS: 1, COMPLETED: 3, FAILED: 1, TIMED_OUT: 1 },
        [idle]: { ...ZERO, IN_QUEUE: 2, CANCELLED: 1, TIMED_OUT: 1 },
      },
    };
    // Visibility lags the jobs by about a second.
    const stats = await waitFor(
      () => get<Stats>('/v1/stats'),
      (s) => isDeepStrictEqual(s, expected),
    );
    expect(stats).toEqual(expected);
    expect(await get<Stats>('/v1/stats', KEYS.acme)).toEqual({
      byStatus: { ...ZERO, IN_QUEUE: 1, IN_PROGRESS: 1 },
      byType: { [work.type]: { ...ZERO, IN_PROGRESS: 1 }, [idle]: { ...ZERO, IN_QUEUE: 1 } },
    });
  });

  it(`splits queued from running by the task queues' backlog past ${EXACT_SPLIT_MAX} running jobs`, async () => {
    const more = EXACT_SPLIT_MAX;
    for (let n = 0; n < more; n += 1) await submit(idle, { more: n });
    // Temporal's backlog figures are approximate and a few seconds behind: wait until they show every queued job.
    const stats = await waitFor(
      () => get<Stats>('/v1/stats'),
      (s) => s.byStatus.IN_QUEUE === 2 + more,
      90_000,
    );
    expect(stats.byStatus).toEqual({
      IN_QUEUE: 2 + more,
      IN_PROGRESS: 1,
      COMPLETED: 3,
      FAILED: 1,
      CANCELLED: 1,
      TIMED_OUT: 2,
    });
    expect(stats.byType[work.type]).toEqual({ ...ZERO, IN_PROGRESS: 1, COMPLETED: 3, FAILED: 1, TIMED_OUT: 1 });
    expect(stats.byType[idle]).toEqual({ ...ZERO, IN_QUEUE: 2 + more, CANCELLED: 1, TIMED_OUT: 1 });
  }, 150_000);
});
