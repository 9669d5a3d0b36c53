import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobView } from '../../contracts/job.js';
import echoJob from '../../examples/jobs/echo.js';
import sleepJob from '../../examples/jobs/sleep.js';
import { defineJob } from '../../sdk/define-job.js';
import { startStack, uniqueSuffix, waitFor, withSuffix, type TestStack } from '../support/stack.js';

describe('the job path on a real Temporal server', () => {
  const suffix = uniqueSuffix();
  const echo = withSuffix(echoJob, suffix);
  const baseSleep = withSuffix(sleepJob, suffix);
  const aborts: string[] = [];
  // The real sleep job, plus a note of every abort its signal delivers.
  const sleep = defineJob({
    ...baseSleep,
    handler: (input, ctx) => {
      ctx.signal.addEventListener('abort', () => aborts.push(ctx.jobId));
      return baseSleep.handler(input, ctx);
    },
  });
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
  const until = (id: string, statuses: string[]) =>
    waitFor(
      () => view(id),
      (v) => statuses.includes(v.status),
    );

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

  it('returns the existing job for an identical submission, whatever the key order, and runs the handler once', async () => {
    const first = await submit({ type: counted.type, input: { n: 21, extra: { x: 1, y: 2 } } });
    expect(first.statusCode).toBe(201);
    const id = first.json<JobView>().id;
    const done = await until(id, ['COMPLETED']);
    expect(done.output).toEqual({ doubled: 42 });

    const again = await submit({ input: { extra: { y: 2, x: 1 }, n: 21 }, type: counted.type });
    expect(again.statusCode).toBe(200);
    const cached = again.json<JobView & { deduplicated: boolean }>();
    expect(cached).toMatchObject({ id, status: 'COMPLETED', deduplicated: true, output: { doubled: 42 } });
    expect(calls).toBe(1);
  });

  it('survives a duplicate storm: 20 identical concurrent submissions make one job and one handler run', async () => {
    const before = calls;
    const body = { type: counted.type, input: { n: 7, storm: suffix } };
    const answers = await Promise.all(Array.from({ length: 20 }, () => submit(body)));
    const statuses = answers.map((res) => res.statusCode).sort();
    expect(statuses.filter((code) => code === 201)).toHaveLength(1);
    expect(statuses.filter((code) => code === 200)).toHaveLength(19);
    const ids = new Set(answers.map((res) => res.json<JobView>().id));
    expect(ids.size).toBe(1);
    const done = await until([...ids][0]!, ['COMPLETED']);
    expect(done.output).toEqual({ doubled: 14 });
    expect(calls - before).toBe(1);
  });

  it('answers 409 for an idempotency key reused with another input, on submit and on /check, even when racing', async () => {
    const key = `reused-${suffix}`;
    const first = await submit({ type: echo.type, input: { v: 1 }, idempotencyKey: key });
    expect(first.statusCode).toBe(201);
    await until(first.json<JobView>().id, ['COMPLETED']);
    for (const url of ['/v1/jobs', '/v1/jobs/check']) {
      const other = await stack.app.inject({
        method: 'POST',
        url,
        payload: { type: echo.type, input: { v: 2 }, idempotencyKey: key },
      });
      expect(other.statusCode, url).toBe(409);
      expect(other.json()).toEqual({
        statusCode: 409,
        code: 'GPUFLOW_ERR_IDEMPOTENCY_MISMATCH',
        error: 'Conflict',
        message: `idempotency key already used for job "${first.json<JobView>().id}" with a different type or input: use a new key for a new job`,
      });
    }
    const same = await submit({ type: echo.type, input: { v: 1 }, idempotencyKey: key });
    expect(same.json()).toMatchObject({ deduplicated: true, output: { v: 1 } });

    // Racing first uses of one key with two inputs: one job, and every caller with the other input gets a 409.
    const raceKey = `race-${suffix}`;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => submit({ type: echo.type, input: { v: i % 2 }, idempotencyKey: raceKey })),
    );
    const created = answers.filter((res) => res.statusCode === 201);
    expect(created).toHaveLength(1);
    const winner = created[0]!.json<JobView & { output?: unknown }>();
    const winnerInput = answers.indexOf(created[0]!) % 2;
    answers.forEach((res, i) => {
      if (res === created[0]) return;
      expect(res.statusCode, `submission ${i}`).toBe(i % 2 === winnerInput ? 200 : 409);
    });
    expect((await until(winner.id, ['COMPLETED'])).output).toEqual({ v: winnerInput });
  });

  it('dedups on an idempotency key, and makes a new job every time with dedup off', async () => {
    const keyed = await submit({ type: echo.type, input: { v: 1 }, idempotencyKey: `order-${suffix}` });
    const sameKey = await submit({ type: echo.type, input: { v: 1 }, idempotencyKey: `order-${suffix}` });
    expect(keyed.statusCode).toBe(201);
    expect(sameKey.statusCode).toBe(200);
    expect(sameKey.json<JobView>().id).toBe(keyed.json<JobView>().id);
    expect(keyed.json<JobView>().id).toMatch(new RegExp(`^${echo.type}-k-[0-9a-f]{32}$`));

    const a = await submit({ type: echo.type, input: { v: 3 }, dedup: false });
    const b = await submit({ type: echo.type, input: { v: 3 }, dedup: false });
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(a.json<JobView>().id).not.toBe(b.json<JobView>().id);
  });

  it('check says whether a job exists and never creates one', async () => {
    const body = { type: echo.type, input: { checked: suffix } };
    const before = await stack.app.inject({ method: 'POST', url: '/v1/jobs/check', payload: body });
    expect(before.statusCode).toBe(200);
    expect(before.json()).toEqual({ exists: false });
    const again = await stack.app.inject({ method: 'POST', url: '/v1/jobs/check', payload: body });
    expect(again.json()).toEqual({ exists: false });

    const created = (await submit(body)).json<JobView>();
    await until(created.id, ['COMPLETED']);
    const after = await stack.app.inject({ method: 'POST', url: '/v1/jobs/check', payload: body });
    expect(after.json()).toMatchObject({ exists: true, id: created.id, status: 'COMPLETED', output: body.input });
  });

  it('shows progress of a running job and cancels it: the handler signal fires and the job ends CANCELLED', async () => {
    const { id } = (await submit({ type: sleep.type, input: { seconds: 60 }, dedup: false })).json<JobView>();
    const running = await waitFor(
      () => view(id),
      (v) => v.status === 'IN_PROGRESS' && v.progress !== null,
    );
    expect(running.attempt).toBe(1);
    expect(running.progress?.percent).toBeLessThan(100);
    expect(running.progress?.message).toMatch(/slept \d+ of 60 s/);

    const cancelledAt = Date.now();
    const res = await stack.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    expect(res.statusCode).toBe(200);
    const ended = await until(id, ['CANCELLED']);
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
    expect(aborts).toContain(id);
    expect(ended.completedAt).not.toBeNull();

    // Cancel is idempotent: a finished job answers its unchanged view. (Sent as many clients do: a JSON content
    // type and no body.)
    const repeat = await stack.app.inject({
      method: 'POST',
      url: `/v1/jobs/${id}/cancel`,
      headers: { 'content-type': 'application/json' },
    });
    expect(repeat.statusCode).toBe(200);
    expect(repeat.json<JobView>().status).toBe('CANCELLED');
  });

  it('refuses an input that breaks the job schema with a 400 naming the field, once the worker published it', async () => {
    // The worker publishes the type's JSON Schema with its announcement; the API reads it in the background. Until
    // then the worker itself refuses the input (a non-retryable ValidationError: test/unit/execute-job.test.ts).
    const refused = await waitFor(
      () => submit({ type: sleep.type, input: { seconds: 'ten' } }),
      (res) => res.statusCode === 400,
      20_000,
    );
    expect(refused.json()).toMatchObject({ code: 'GPUFLOW_ERR_VALIDATION' });
    expect(refused.json<{ message: string }>().message).toMatch(/input\.seconds/);
  });

  it('answers 404 for an unknown job, on view and on cancel', async () => {
    for (const req of [
      { method: 'GET' as const, url: `/v1/jobs/echo-${suffix}-nope` },
      { method: 'POST' as const, url: `/v1/jobs/echo-${suffix}-nope/cancel` },
    ]) {
      const res = await stack.app.inject(req);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ statusCode: 404, code: 'GPUFLOW_ERR_JOB_NOT_FOUND', error: 'Not Found' });
    }
  });
});
