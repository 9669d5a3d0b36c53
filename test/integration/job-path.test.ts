import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobView } from '../../contracts/job.js';
import echoJob from '../../examples/jobs/echo.js';
import sleepJob from '../../examples/jobs/sleep.js';
import { defineJob } from '../../workers/define-job.js';
import { startStack, uniqueSuffix, waitFor, withSuffix, type TestStack } from '../support/stack.js';

describe('the job path on a real Temporal server', () => {
  const suffix = uniqueSuffix();
  const echo = withSuffix(echoJob, suffix);
  const sleep = withSuffix(sleepJob, suffix);
  let calls = 0;
  const counted = defineJob({
    type: `counted-${suffix}`,
    input: z.object({ n: z.number() }),
    handler: ({ n }) => {
      calls += 1;
      return { doubled: n * 2 };
    },
  });
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack();
    await stack.startJobWorker({ jobs: [echo, sleep, counted], capacity: 4 });
  });
  afterAll(async () => stack?.stop());

  const submit = (body: unknown) => stack.app.inject({ method: 'POST', url: '/v1/jobs', payload: body as object });
  const view = async (id: string) => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();
  const until = (id: string, statuses: string[]) => waitFor(() => view(id), (v) => statuses.includes(v.status));

  it('runs a submitted job to COMPLETED with the handler output', async () => {
    const input = { a: 1, nested: { b: [1, 2, 3] } };
    const res = await submit({ type: echo.type, input });
    expect(res.statusCode).toBe(201);
    const created = res.json<JobView & { deduplicated: boolean }>();
    expect(created.deduplicated).toBe(false);
    expect(created.id).toMatch(new RegExp(`^${echo.type}-[0-9a-f]{32}$`));
    expect(['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED']).toContain(created.status);

    const done = await until(created.id, ['COMPLETED']);
    expect(done.output).toEqual(input);
    expect(done.attempt).toBe(1);
    expect(done.workerId).toMatch(/.+-\d+$/);
    expect(done.startedAt).not.toBeNull();
    expect(done.completedAt).not.toBeNull();
    expect(done.executionTimeMs).toBeGreaterThanOrEqual(0);
    expect(done.delayTimeMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(done.completedAt!)).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
  });
});
