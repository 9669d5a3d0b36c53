import { setTimeout as sleepMs } from 'node:timers/promises';
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { z } from 'zod';
import type { JobView } from '../../contracts/job.js';
import { JobStatusKey } from '../../protocol/search-attributes.js';
import failJob from '../../examples/jobs/fail.js';
import sleepJob from '../../examples/jobs/sleep.js';
import { defineJob } from '../../sdk/define-job.js';
import { JobError } from '../../sdk/job-error.js';
import { NAMESPACE, startStack, uniqueSuffix, waitFor, withSuffix, type TestStack } from '../support/stack.js';

/** Holds each call of one gRPC method for a random time up to `maxMs` before it is sent. */
function delay(methodSuffix: string, maxMs: number): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      sendMessage(message, next) {
        if (!options.method_definition.path.endsWith(methodSuffix)) return next(message);
        setTimeout(() => next(message), Math.random() * maxMs);
      },
    });
}

/** A job's life under failures, timeouts, retries and cancellation, as a user sees it through the API. */
describe('job lifecycle', () => {
  const suffix = uniqueSuffix();
  const fail = withSuffix(failJob, suffix);
  const sleep = withSuffix(sleepJob, suffix);
  const aborted = new Map<string, number>();
  // Fails its first attempt after a checkpoint; the next attempt reports what it resumed from.
  const resumable = defineJob({
    type: `resumable-${suffix}`,
    input: z.object({ step: z.number() }),
    handler: ({ step }, ctx) => {
      if (ctx.attempt === 1) {
        ctx.checkpoint({ done: step });
        throw new Error('lost the GPU');
      }
      return { attempt: ctx.attempt, resumeFrom: ctx.resumeFrom };
    },
  });
  // Notes when its signal aborts, to time cancellation from the handler's side.
  const watched = defineJob({
    ...sleep,
    type: `watched-${suffix}`,
    handler: (input, ctx) => {
      ctx.signal.addEventListener('abort', () => aborted.set(ctx.jobId, Date.now()));
      return sleep.handler(input, ctx);
    },
  });
  // Fails until `flaky.healthy` is set: a job that a retry after a fix completes.
  const flaky = {
    healthy: false,
    job: defineJob({
      type: `flaky-${suffix}`,
      input: z.object({ n: z.number() }),
      handler: ({ n }) => {
        if (!flaky.healthy) throw new JobError('the model is not loaded', { retryable: false });
        return { n };
      },
    }),
  };
  const unserved = `unserved-${suffix}`;
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack();
    await stack.startJobWorker({ jobs: [fail, sleep, resumable, watched, flaky.job], capacity: 4 });
  });
  afterAll(async () => stack?.stop());

  const submit = (body: object, query = '') =>
    stack.app.inject({ method: 'POST', url: `/v1/jobs${query}`, payload: { dedup: false, ...body } });
  const created = async (body: object, query = '') => (await submit(body, query)).json<JobView>();
  const view = async (id: string) => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();
  const until = (id: string, done: (v: JobView) => boolean, timeoutMs?: number) =>
    waitFor(() => view(id), done, timeoutMs);
  const post = (url: string) => stack.app.inject({ method: 'POST', url });

  it('validates the policy with a clear 400 and passes priority to Temporal', async () => {
    const bad = await submit({
      type: sleep.type,
      input: { seconds: 1 },
      policy: { heartbeatTimeoutMs: 10, priority: 6 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'GPUFLOW_ERR_VALIDATION' });
    expect(bad.json<{ message: string }>().message).toMatch(/policy\.heartbeatTimeoutMs/);
    expect(bad.json<{ message: string }>().message).toMatch(/policy\.priority/);

    const job = await created({ type: unserved, input: { p: 1 }, policy: { priority: 1 } });
    const description = await waitFor(
      () => stack.client.workflow.getHandle(job.id).describe(),
      (d) => (d.raw.pendingActivities?.length ?? 0) > 0,
    );
    expect(description.raw.pendingActivities?.[0]?.priority?.priorityKey).toBe(1);
    await post(`/v1/jobs/${job.id}/cancel`);
  });

  it('retries a thrown error until maxAttempts, IN_QUEUE between attempts, then FAILED with the worker named', async () => {
    const job = await created({
      type: fail.type,
      input: { message: 'CUDA out of memory', retryable: true },
      policy: { maxAttempts: 3 },
    });
    // The second retry waits 2 s: the job is queued again, with its first attempts counted.
    const waiting = await until(job.id, (v) => v.status === 'IN_QUEUE' && v.attempt >= 1);
    expect(waiting.queue).toMatchObject({ workers: 1 });
    // Listings read the JobStatus search attribute: it says queued too while the retry waits.
    const listed = await waitFor(
      () => stack.client.workflow.getHandle(job.id).describe(),
      (d) => d.typedSearchAttributes.get(JobStatusKey) === 'IN_QUEUE' || d.status.name !== 'RUNNING',
    );
    expect(listed.typedSearchAttributes.get(JobStatusKey)).toBe('IN_QUEUE');
    const done = await until(job.id, (v) => v.status === 'FAILED');
    expect(done.attempt).toBe(3);
    expect(done.error).toEqual({
      type: 'JobError',
      message: 'CUDA out of memory',
      retryable: true,
      workerId: expect.stringMatching(/.+-\d+$/) as unknown,
    });
  });

  it('does not retry JobError({ retryable: false })', async () => {
    const job = await created({ type: fail.type, input: { message: 'bad prompt', retryable: false } });
    const done = await until(job.id, (v) => v.status === 'FAILED');
    expect(done).toMatchObject({ attempt: 1, error: { type: 'JobError', message: 'bad prompt', retryable: false } });
  });

  it('ends TIMED_OUT when the last attempt exceeds executionTimeoutMs, and says so', async () => {
    const job = await created({
      type: sleep.type,
      input: { seconds: 30 },
      policy: { executionTimeoutMs: 1000, maxAttempts: 1 },
    });
    const done = await until(job.id, (v) => v.status === 'TIMED_OUT');
    expect(done.attempt).toBe(1);
    expect(done.error).toMatchObject({ type: 'ExecutionTimeout', retryable: true });
    expect(done.error?.message).toMatch(/executionTimeoutMs \(1000 ms\)/);
  });

  it('ends TIMED_OUT when the job outlives ttlMs in the queue, never started', async () => {
    const job = await created({ type: unserved, input: { ttl: true }, policy: { ttlMs: 1500 } });
    expect(job).toMatchObject({ status: 'IN_QUEUE', attempt: 0, queue: { workers: 0 } });
    const done = await until(job.id, (v) => v.status === 'TIMED_OUT');
    expect(done).toMatchObject({ attempt: 0, startedAt: null, error: { type: 'TtlExpired' } });
    expect(done.error?.message).toMatch(/ttlMs \(1500 ms\)/);
  });

  it('hands the next attempt the checkpoint of the one before', async () => {
    const job = await created({ type: resumable.type, input: { step: 7 } });
    const done = await until(job.id, (v) => v.status === 'COMPLETED');
    expect(done.output).toEqual({ attempt: 2, resumeFrom: { done: 7 } });
    expect(done.attempt).toBe(2);
  });

  it('shows progress within about a second, and cancels a running job within 2 s', async () => {
    const job = await created({ type: watched.type, input: { seconds: 60 } });
    await until(job.id, (v) => v.status === 'IN_PROGRESS');
    const seen = await until(job.id, (v) => (v.progress?.percent ?? 0) > 0, 5000);
    expect(seen.progress?.message).toMatch(/slept \d+ of 60 s/);

    const cancelledAt = Date.now();
    const answer = await post(`/v1/jobs/${job.id}/cancel`);
    expect(answer.statusCode).toBe(200);
    const done = await until(job.id, (v) => v.status === 'CANCELLED', 10_000);
    expect(aborted.get(job.id)! - cancelledAt).toBeLessThan(2000);
    expect(done.completedAt).not.toBeNull();

    // Cancelling a finished job changes nothing.
    const again = await post(`/v1/jobs/${job.id}/cancel`);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(done);
  });

  it('cancels a queued job without ever starting it', async () => {
    let runs = 0;
    const counted = defineJob({
      type: `queued-${suffix}`,
      input: z.object({}),
      handler: () => {
        runs += 1;
        return {};
      },
    });
    const job = await created({ type: counted.type, input: {} });
    const cancelled = (await post(`/v1/jobs/${job.id}/cancel`)).json<JobView>();
    expect(['IN_QUEUE', 'CANCELLED']).toContain(cancelled.status);
    await until(job.id, (v) => v.status === 'CANCELLED');
    const worker = await stack.startJobWorker({ jobs: [counted] });
    await sleepMs(1500);
    await worker.stop();
    expect(runs).toBe(0);
    expect(await view(job.id)).toMatchObject({ status: 'CANCELLED', attempt: 0, startedAt: null });
  });

  it('retries a FAILED job under the same id on request, and refuses to retry anything else', async () => {
    flaky.healthy = false;
    const job = await created({ type: flaky.job.type, input: { n: 1 } });
    await until(job.id, (v) => v.status === 'FAILED');
    flaky.healthy = true;

    const retried = await post(`/v1/jobs/${job.id}/retry`);
    expect(retried.statusCode).toBe(202);
    expect(retried.json<JobView>()).toMatchObject({ id: job.id });
    expect(['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED']).toContain(retried.json<JobView>().status);
    const done = await until(job.id, (v) => v.status === 'COMPLETED');
    expect(done).toMatchObject({ output: { n: 1 }, attempt: 1 });

    const again = await post(`/v1/jobs/${job.id}/retry`);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'GPUFLOW_ERR_JOB_NOT_RETRYABLE' });
    expect(again.json<{ message: string }>().message).toMatch(/is COMPLETED/);
    expect((await post(`/v1/jobs/nope-${suffix}/retry`)).statusCode).toBe(404);
  });

  /** Every run the job's id has had, counted in Temporal's visibility (which lags a little after a start). */
  const runsOf = async (id: string): Promise<number> => {
    const runs = [];
    for await (const run of stack.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(run.runId);
    return runs.length;
  };
  const fastFailing = { message: 'no GPU', retryable: false };

  it('starts exactly one run for 100 concurrent retries of a fast-failing job, and answers each with it', async () => {
    const job = await created({ type: fail.type, input: fastFailing, policy: { maxAttempts: 1 } });
    await until(job.id, (v) => v.status === 'FAILED');
    const answers = await Promise.all(Array.from({ length: 100 }, () => post(`/v1/jobs/${job.id}/retry`)));
    expect(answers.map((res) => res.statusCode)).toEqual(answers.map(() => 202));
    expect(new Set(answers.map((res) => res.json<JobView>().createdAt)).size).toBe(1);
    await until(job.id, (v) => v.status === 'FAILED');
    await sleepMs(2000);
    expect(await runsOf(job.id)).toBe(2);
  });

  it('starts exactly one run for 100 concurrent identical resubmissions of a FAILED job, however late each starts', async () => {
    const body = {
      type: fail.type,
      input: { ...fastFailing, message: `no GPU ${suffix}` },
      policy: { maxAttempts: 1 },
      dedup: true,
    };
    const job = await created(body);
    await until(job.id, (v) => v.status === 'FAILED');
    // An API whose starts reach Temporal up to 4 s late, as under load: the new run fails long before the last
    // racer's start arrives, and each of those used to start one more run.
    const connection = await Connection.connect({
      address: inject('temporalAddress'),
      interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), delay('/StartWorkflowExecution', 4000)],
    });
    const client = new Client({ connection, namespace: NAMESPACE });
    // The bound on Temporal calls is not under test here: room for the delay on a loaded machine.
    const slowApp = await buildApp({
      client,
      namespace: NAMESPACE,
      controlTaskQueue: stack.controlTaskQueue,
      temporalTimeoutMs: 30_000,
    });
    try {
      const answers = await Promise.all(
        Array.from({ length: 100 }, () => slowApp.inject({ method: 'POST', url: '/v1/jobs', payload: body })),
      );
      const codes = answers.map((res) => res.statusCode);
      expect(
        codes.filter((code) => code !== 200 && code !== 201),
        JSON.stringify(codes),
      ).toEqual([]);
      expect(codes.filter((code) => code === 201)).toHaveLength(1);
      expect(codes.filter((code) => code === 200)).toHaveLength(99);
      expect(new Set(answers.map((res) => res.json<JobView>().id))).toEqual(new Set([job.id]));
    } finally {
      await slowApp.close();
      await connection.close();
    }
    await until(job.id, (v) => v.status === 'FAILED');
    await sleepMs(2000);
    expect(await runsOf(job.id)).toBe(2);
  });

  it('waits for the end with ?wait on submit and on the view, or answers when the wait runs out', async () => {
    const startedAt = Date.now();
    const quick = await submit({ type: sleep.type, input: { seconds: 1 } }, '?wait=20000');
    expect(quick.statusCode).toBe(201);
    expect(quick.json()).toMatchObject({ status: 'COMPLETED', output: { slept: 1, resumedFrom: 0 } });
    expect(Date.now() - startedAt).toBeLessThan(15_000);

    const slow = await created({ type: sleep.type, input: { seconds: 30 } });
    const waitedAt = Date.now();
    const current = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${slow.id}?wait=1500` });
    expect(Date.now() - waitedAt).toBeGreaterThanOrEqual(1400);
    expect(Date.now() - waitedAt).toBeLessThan(5000);
    expect(['IN_QUEUE', 'IN_PROGRESS']).toContain(current.json<JobView>().status);
    await post(`/v1/jobs/${slow.id}/cancel`);
    const ended = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${slow.id}?wait=20000` });
    expect(ended.json()).toMatchObject({ status: 'CANCELLED' });

    const tooLong = await stack.app.inject({ method: 'GET', url: `/v1/jobs/${slow.id}?wait=300001` });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toMatchObject({ code: 'GPUFLOW_ERR_VALIDATION' });
  });

  it('runs at most --capacity jobs of a type at once on one worker', async () => {
    const spans: { start: number; end: number }[] = [];
    const timed = defineJob({
      type: `timed-${suffix}`,
      input: z.object({ i: z.number() }),
      handler: async (_input, ctx) => {
        const start = Date.now();
        await sleepMs(400, undefined, { signal: ctx.signal });
        spans.push({ start, end: Date.now() });
        return {};
      },
    });
    const worker = await stack.startJobWorker({ jobs: [timed], capacity: 2 });
    const jobs = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => created({ type: timed.type, input: { i } })));
    for (const job of jobs) await until(job.id, (v) => v.status === 'COMPLETED');
    await worker.stop();
    // Jobs running at once, at the moment each one started.
    const overlapping = Math.max(
      ...spans.map(({ start }) => spans.filter((other) => other.start <= start && start < other.end).length),
    );
    expect(overlapping).toBe(2);
  });
});
