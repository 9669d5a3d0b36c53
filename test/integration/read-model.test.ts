import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { JobList, Stats } from '../../contracts/admin.js';
import type { JobView } from '../../contracts/job.js';
import { defineJob } from '../../sdk/define-job.js';
import { JobError } from '../../sdk/job-error.js';
import { startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

describe('one read model: jobs, not runs; a failed job read from its memo', () => {
  const suffix = uniqueSuffix();
  // Fails while `failing` holds its name, completes once the test has taken it out.
  const failing = new Set<string>();
  const flaky = defineJob({
    type: `flaky-${suffix}`,
    input: z.object({ name: z.string() }),
    handler: ({ name }) => {
      if (failing.has(name)) throw new JobError(`${name} is broken for now`, { retryable: false });
      return { name };
    },
  });
  let stack: TestStack;
  let memoJobId = '';

  const get = async <T>(url: string): Promise<T> => {
    const res = await stack.app.inject({ method: 'GET', url });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<T>();
  };
  const submit = async (name: string): Promise<JobView> => {
    const res = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: flaky.type, input: { name }, policy: { maxAttempts: 1 } },
    });
    expect([200, 201], res.body).toContain(res.statusCode);
    return res.json<JobView>();
  };
  const until = (id: string, status: string) =>
    waitFor(
      () => get<JobView>(`/v1/jobs/${id}`),
      (view) => view.status === status,
      60_000,
    );

  beforeAll(async () => {
    stack = await startStack();
    await stack.startJobWorker({ jobs: [flaky], capacity: 2 });
  });
  afterAll(() => stack?.stop());

  it('answers a GET of a FAILED job without reading its history: the memo holds the error', async () => {
    failing.add('memo');
    const job = await submit('memo');
    memoJobId = job.id;
    await until(job.id, 'FAILED');
    const history = vi.spyOn(stack.client.workflowService, 'getWorkflowExecutionHistory');
    try {
      const view = await get<JobView>(`/v1/jobs/${job.id}`);
      expect(view).toMatchObject({
        status: 'FAILED',
        error: { type: 'JobError', message: 'memo is broken for now', retryable: false },
      });
      expect(history).toHaveBeenCalledTimes(0);
    } finally {
      history.mockRestore();
    }
  });

  it('lists and counts a job that failed, was retried (and one resubmitted) and completed once, as COMPLETED', async () => {
    failing.add('retried');
    failing.add('resubmitted');
    const retried = await submit('retried');
    const resubmitted = await submit('resubmitted');
    await until(retried.id, 'FAILED');
    await until(resubmitted.id, 'FAILED');
    failing.delete('retried');
    failing.delete('resubmitted');

    const retry = await stack.app.inject({ method: 'POST', url: `/v1/jobs/${retried.id}/retry` });
    expect(retry.statusCode, retry.body).toBe(202);
    const again = await submit('resubmitted');
    expect(again.id).toBe(resubmitted.id);
    await until(retried.id, 'COMPLETED');
    await until(resubmitted.id, 'COMPLETED');

    const ids = [retried.id, resubmitted.id].sort();
    // Visibility lags a little behind the runs: wait until both jobs list as COMPLETED.
    const list = await waitFor(
      () => get<JobList>(`/v1/jobs?type=${flaky.type}&limit=50`),
      (page) => page.jobs.filter((row) => ids.includes(row.id)).every((row) => row.status === 'COMPLETED'),
    );
    const rows = list.jobs.filter((row) => ids.includes(row.id));
    expect(rows.map((row) => row.id).sort()).toEqual(ids);
    expect(rows.map((row) => row.status)).toEqual(['COMPLETED', 'COMPLETED']);
    const failed = await get<JobList>(`/v1/jobs?type=${flaky.type}&status=FAILED&limit=50`);
    expect(failed.jobs.map((row) => row.id)).toEqual([memoJobId]);

    const stats = await waitFor(
      () => get<Stats>('/v1/stats'),
      (s) => s.byType[flaky.type]?.COMPLETED === 2,
    );
    // The memo test's job failed and stayed failed: one FAILED job; the two re-run ones are COMPLETED only.
    expect(stats.byType[flaky.type]).toMatchObject({ COMPLETED: 2, FAILED: 1, CANCELLED: 0, TIMED_OUT: 0 });
    expect(stats.byStatus).toMatchObject({ COMPLETED: 2, FAILED: 1 });
  });
});
