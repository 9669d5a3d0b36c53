import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobList, Queues, Stats } from '../../contracts/admin.js';
import type { JobView } from '../../contracts/job.js';
import { jobTypeCatalogId, type JobTypeCatalogMemo } from '../../contracts/job-types.js';
import { jobTypesSeenSignal } from '../../protocol/signals.js';
import echoJob from '../../examples/jobs/echo.js';
import { defineJob } from '../../sdk/define-job.js';
import { JobError } from '../../sdk/job-error.js';
import { startStack, uniqueSuffix, waitFor, withSuffix, type TestStack } from '../support/stack.js';

const ADMIN_KEY = 'admin-key-0123456789abcdef';
const SUBMIT_KEY = 'submit-key-0123456789abcdef';

describe('operator views on a real Temporal server', () => {
  const suffix = uniqueSuffix();
  const echo = withSuffix(echoJob, suffix);
  const broken = defineJob({
    type: `broken-${suffix}`,
    input: z.json(),
    handler: () => {
      throw new JobError('always broken', { retryable: false });
    },
  });
  // No worker ever serves this type: its jobs wait in the queue.
  const orphan = `orphan-${suffix}`;
  const identity = `admin-test-${suffix}`;
  const ids = { echo: [] as string[], broken: '', queued: '', cancelled: '', terminated: '' };
  let stack: TestStack;

  const request = (method: 'GET' | 'POST', url: string, key = ADMIN_KEY, payload?: object) =>
    stack.app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}` } });
  const get = async <T>(url: string): Promise<T> => {
    const res = await request('GET', url);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<T>();
  };
  const submit = async (type: string, input: unknown): Promise<string> => {
    const res = await request('POST', '/v1/jobs', SUBMIT_KEY, { type, input, dedup: false });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<JobView>().id;
  };
  const until = (id: string, status: string) =>
    waitFor(
      () => get<JobView>(`/v1/jobs/${id}`),
      (view) => view.status === status,
    );

  beforeAll(async () => {
    stack = await startStack({
      apiKeys: [
        { key: ADMIN_KEY, role: 'admin' },
        { key: SUBMIT_KEY, role: 'submit' },
      ],
    });
    await stack.startJobWorker({ jobs: [echo, broken], capacity: 4, identity });
    for (const n of [1, 2, 3]) ids.echo.push(await submit(echo.type, { n }));
    ids.broken = await submit(broken.type, { n: 0 });
    ids.queued = await submit(orphan, { n: 1 });
    ids.cancelled = await submit(orphan, { n: 2 });
    ids.terminated = await submit(orphan, { n: 3 });
    await request('POST', `/v1/jobs/${ids.cancelled}/cancel`);
    await stack.client.workflow.getHandle(ids.terminated).terminate('stopped by the admin test');
    await Promise.all([
      ...ids.echo.map((id) => until(id, 'COMPLETED')),
      until(ids.broken, 'FAILED'),
      until(ids.cancelled, 'CANCELLED'),
      until(ids.terminated, 'FAILED'),
    ]);
    // Visibility lags the jobs by about a second: let it catch up once, so every test reads settled records.
    const settled = new Map<string, string>([
      ...ids.echo.map((id): [string, string] => [id, 'COMPLETED']),
      [ids.broken, 'FAILED'],
      [ids.queued, 'IN_QUEUE'],
      [ids.cancelled, 'CANCELLED'],
      [ids.terminated, 'FAILED'],
    ]);
    await waitFor(
      () => get<JobList>('/v1/jobs?limit=100'),
      (list) => list.jobs.length === settled.size && list.jobs.every((job) => settled.get(job.id) === job.status),
    );
  });
  afterAll(async () => {
    await stack?.client.workflow.getHandle(ids.queued).terminate('test over');
    await stack?.stop();
  });

  it('answers 401 without a key on every operator route, 200 to an admin key; queues are admin only', async () => {
    for (const url of ['/v1/jobs', '/v1/stats', '/v1/queues']) {
      expect((await stack.app.inject({ method: 'GET', url })).statusCode).toBe(401);
      expect((await request('GET', url)).statusCode).toBe(200);
    }
    // Listings and counts answer a submit key too, with its own tenant's jobs (test/integration/tenants.test.ts).
    const forbidden = await request('GET', '/v1/queues', SUBMIT_KEY);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ statusCode: 403, code: 'GPUFLOW_ERR_FORBIDDEN', error: 'Forbidden' });
    // The submit key still reaches the job routes.
    expect((await request('GET', `/v1/jobs/${ids.broken}`, SUBMIT_KEY)).statusCode).toBe(200);
  });

  it('lists jobs by type and status from visibility, without output, with the error of a failed job', async () => {
    const completed = await get<JobList>(`/v1/jobs?type=${echo.type}&status=COMPLETED`);
    expect(completed.nextCursor).toBeNull();
    expect(completed.jobs.map((job) => job.id).sort()).toEqual([...ids.echo].sort());
    for (const job of completed.jobs) {
      expect(job).toMatchObject({
        type: echo.type,
        status: 'COMPLETED',
        attempt: 1,
        workerId: identity,
        progress: null,
      });
      expect(job).not.toHaveProperty('output');
      expect(job.executionTimeMs).toBeGreaterThanOrEqual(0);
      expect(job.delayTimeMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(job.completedAt!)).toBeGreaterThanOrEqual(Date.parse(job.startedAt!));
    }

    const failed = await get<JobList>(`/v1/jobs?type=${broken.type}&status=FAILED`);
    expect(failed.jobs).toHaveLength(1);
    expect(failed.jobs[0]).toMatchObject({
      id: ids.broken,
      status: 'FAILED',
      error: { type: 'JobError', message: 'always broken', retryable: false, workerId: identity },
    });

    // A terminated job is FAILED although its JobStatus search attribute still says IN_QUEUE.
    const orphans = await get<JobList>(`/v1/jobs?type=${orphan}&status=FAILED`);
    expect(orphans.jobs).toHaveLength(1);
    expect(orphans.jobs[0]).toMatchObject({ id: ids.terminated, error: { type: 'Terminated' } });
    expect((await get<JobList>(`/v1/jobs?type=${orphan}&status=IN_QUEUE`)).jobs.map((job) => job.id)).toEqual([
      ids.queued,
    ]);
    expect((await get<JobList>(`/v1/jobs?type=${orphan}&status=CANCELLED`)).jobs.map((job) => job.id)).toEqual([
      ids.cancelled,
    ]);
    expect((await get<JobList>(`/v1/jobs?status=IN_PROGRESS`)).jobs).toEqual([]);
  });

  it('pages through all jobs with the cursor: running jobs first, then by close time, newest first', async () => {
    const all = [...ids.echo, ids.broken, ids.queued, ids.cancelled, ids.terminated];
    const seen: JobView[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: JobList = await get<JobList>(`/v1/jobs?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.jobs.length).toBeLessThanOrEqual(3);
      seen.push(...page.jobs);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen.map((job) => job.id).sort()).toEqual(all.sort());
    expect(seen[0]).toMatchObject({ id: ids.queued, status: 'IN_QUEUE', attempt: 0, completedAt: null });
    const closedAt = seen.slice(1).map((job) => Date.parse(job.completedAt!));
    expect(closedAt).toEqual([...closedAt].sort((a, b) => b - a));

    // A cursor continues the listing it came from, not one with other filters.
    const first = await get<JobList>('/v1/jobs?limit=1');
    const other = await request('GET', `/v1/jobs?limit=1&type=${echo.type}&cursor=${first.nextCursor}`);
    expect(other.statusCode).toBe(400);
    expect(other.json()).toMatchObject({ code: 'GPUFLOW_ERR_VALIDATION' });
    expect(other.json<{ message: string }>().message).toMatch(/^cursor: .*other filters/);
  });

  it('counts jobs by status, overall and per type, all six statuses always present', async () => {
    const zero = { IN_QUEUE: 0, IN_PROGRESS: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0, TIMED_OUT: 0 };
    const expected: Stats = {
      byStatus: { ...zero, IN_QUEUE: 1, COMPLETED: 3, FAILED: 2, CANCELLED: 1 },
      byType: {
        [broken.type]: { ...zero, FAILED: 1 },
        [echo.type]: { ...zero, COMPLETED: 3 },
        [orphan]: { ...zero, IN_QUEUE: 1, FAILED: 1, CANCELLED: 1 },
      },
    };
    expect(await get<Stats>('/v1/stats')).toEqual(expected);
  });

  it('shows each queue: the worker polling it, and the backlog of a type no worker serves', async () => {
    const { queues } = await waitFor(
      () => get<Queues>('/v1/queues'),
      ({ queues: all }) =>
        // Temporal's backlog figures are approximate and computed apart: wait until both show the waiting job.
        all.some((queue) => queue.type === orphan && queue.backlogCount > 0 && queue.backlogAgeMs > 0) &&
        all.some((queue) => queue.type === echo.type && queue.workers.length > 0),
    );
    expect(queues.map((queue) => queue.type)).toEqual([broken.type, echo.type, orphan]);
    const echoQueue = queues.find((queue) => queue.type === echo.type)!;
    expect(echoQueue.taskQueue).toBe(`jobs.${echo.type}`);
    expect(echoQueue.workers.map((worker) => worker.identity)).toContain(identity);
    expect(Date.parse(echoQueue.workers[0]!.lastSeenAt!)).toBeGreaterThan(Date.now() - 5 * 60_000);
    const orphanQueue = queues.find((queue) => queue.type === orphan)!;
    expect(orphanQueue.workers).toEqual([]);
    expect(orphanQueue.backlogAgeMs).toBeGreaterThan(0);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['status=DONE', 'status'],
    ['type=Echo', 'type'],
    ['cursor=not%20base64', 'cursor'],
    ['cursor=Zm9v', 'cursor'],
    ['cursor=Zm9v=', 'cursor'],
    ['sort=asc', 'sort'],
  ])('answers 400 to ?%s, naming the parameter', async (query, name) => {
    const res = await request('GET', `/v1/jobs?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, code: 'GPUFLOW_ERR_VALIDATION', error: 'Bad Request' });
    expect(res.json<{ message: string }>().message).toContain(name);
  });

  it('keeps the known job types in the memo of one catalog workflow per control task queue', async () => {
    const handle = stack.client.workflow.getHandle(jobTypeCatalogId(stack.controlTaskQueue));
    const description = await waitFor(
      () => handle.describe(),
      (value) => (value.memo as Partial<JobTypeCatalogMemo> | undefined)?.types?.length === 3,
    );
    const memo = description.memo as unknown as JobTypeCatalogMemo;
    expect(memo.types).toEqual([broken.type, echo.type, orphan].sort());
    // The types whose workers published an input schema carry it (the API checks submits against it).
    expect(Object.keys(memo.inputSchemas ?? {})).toContain(echo.type);
    expect(description.taskQueue).toBe(stack.controlTaskQueue);
  });

  it('continues the catalog as new when its history grows, carrying the types', async () => {
    const workflowId = `catalog-test-${suffix}`;
    const handle = await stack.client.workflow.signalWithStart('jobTypeCatalog', {
      workflowId,
      taskQueue: stack.controlTaskQueue,
      args: [{ types: [], maxHistoryLength: 12 }],
      signal: jobTypesSeenSignal,
      signalArgs: [['a']],
    });
    const firstRunId = handle.signaledRunId;
    try {
      for (const type of ['b', 'c', 'd', 'e', 'f']) {
        await stack.client.workflow.getHandle(workflowId).signal(jobTypesSeenSignal, [type, 'a']);
        await new Promise((resolveWait) => setTimeout(resolveWait, 200));
      }
      const latest = await waitFor(
        () => stack.client.workflow.getHandle(workflowId).describe(),
        (value) => (value.memo as Partial<JobTypeCatalogMemo> | undefined)?.types?.length === 6,
      );
      expect(latest.memo).toEqual({ types: ['a', 'b', 'c', 'd', 'e', 'f'] });
      expect(latest.runId).not.toBe(firstRunId);
      expect(latest.status.name).toBe('RUNNING');
    } finally {
      await stack.client.workflow.getHandle(workflowId).terminate('test over');
    }
  });
});
