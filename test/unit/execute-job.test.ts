import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJobActivities, type ReadyJob } from '../../activities/execute-job.js';
import type { HeartbeatDetails } from '../../protocol/heartbeat.js';
import { defineJob, type JobDefinition } from '../../sdk/define-job.js';
import { JobError } from '../../sdk/job-error.js';

// A real logger that keeps quiet: the failures below are expected, and there is no client to report attempts to.
const quiet = new DefaultLogger('ERROR', () => undefined);
const mockEnv = (info: Partial<Info> = {}) => new MockActivityEnvironment(info, { logger: quiet });

function activitiesFor(definition: JobDefinition, resources: unknown = undefined) {
  const lines: string[] = [];
  const jobs = new Map<string, ReadyJob>([[definition.type, { definition, resources }]]);
  const activities = createJobActivities({
    jobs,
    workerId: 'test-worker',
    progressFreshnessMs: 20,
    print: (line) => lines.push(line),
  });
  return { ...activities, lines };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('executeJob (the activity that runs a handler)', () => {
  it('parses the input with the job schema and hands the handler its setup resources', async () => {
    const job = defineJob({
      type: 'add',
      input: z.object({ a: z.number(), b: z.number().default(1) }),
      handler: ({ a, b }, ctx) => ({
        sum: a + b,
        resources: ctx.resources,
        worker: ctx.workerId,
        attempt: ctx.attempt,
      }),
    });
    const { executeJob } = activitiesFor(job, { model: 'm' });
    const output = await mockEnv({ attempt: 2 }).run(executeJob, { jobId: 'add-1', type: 'add', input: { a: 2 } });
    expect(output).toMatchObject({
      output: { sum: 3, resources: { model: 'm' }, worker: 'test-worker', attempt: 2 },
      artifacts: [],
      attemptFacts: { attempt: 2, workerId: 'test-worker' },
    });
    expect((output as { handlerTimeMs: number }).handlerTimeMs).toBeGreaterThanOrEqual(0);
  });

  it('turns a handler that returns nothing into a null output', async () => {
    const { executeJob } = activitiesFor(defineJob({ type: 'void', input: z.null(), handler: () => undefined }));
    expect(await mockEnv().run(executeJob, { jobId: 'v', type: 'void', input: null })).toMatchObject({
      output: null,
      artifacts: [],
    });
  });

  it('fails bad input as a non-retryable ValidationError naming the field', async () => {
    const { executeJob } = activitiesFor(
      defineJob({ type: 'n', input: z.object({ steps: z.number().int() }), handler: () => 1 }),
    );
    const failure = await failureOf(mockEnv().run(executeJob, { jobId: 'n', type: 'n', input: { steps: 1.5 } }));
    expect(failure).toMatchObject({ type: 'ValidationError', nonRetryable: true });
    expect(failure.message).toMatch(/^input\.steps: /);
  });

  it('maps JobError to its retryability and type, and any other throw to a retryable failure of its class', async () => {
    const cases: [unknown, { type: string; nonRetryable: boolean; message: string }][] = [
      [
        new JobError('bad prompt', { retryable: false }),
        { type: 'JobError', nonRetryable: true, message: 'bad prompt' },
      ],
      [new JobError('oom', { type: 'OutOfMemory' }), { type: 'OutOfMemory', nonRetryable: false, message: 'oom' }],
      [new RangeError('too far'), { type: 'RangeError', nonRetryable: false, message: 'too far' }],
      ['a string', { type: 'Error', nonRetryable: false, message: 'a string' }],
    ];
    for (const [thrown, expected] of cases) {
      const handler = () => {
        throw thrown; // handlers may throw anything, strings included
      };
      const { executeJob } = activitiesFor(defineJob({ type: 't', input: z.null(), handler }));
      expect(await failureOf(mockEnv().run(executeJob, { jobId: 't', type: 't', input: null }))).toMatchObject(
        expected,
      );
    }
  });

  it('renews the lease three times per lease while the handler is silent, with its progress and newest log lines', async () => {
    const job = defineJob({
      type: 'busy',
      input: z.null(),
      async handler(_input, ctx) {
        ctx.progress(150, 'warming up');
        ctx.log('loaded', { layers: 2 });
        await sleep(400); // a long GPU call that never yields progress
        return 'ok';
      },
    });
    const { executeJob, lines } = activitiesFor(job);
    const env = mockEnv({ heartbeatTimeoutMs: 150 });
    const beats: HeartbeatDetails[] = [];
    // MockActivityEnvironment is an EventEmitter at run time; its typings lose that.
    (env as unknown as EventEmitter).on('heartbeat', (details: HeartbeatDetails) =>
      beats.push(structuredClone(details)),
    );
    await env.run(executeJob, { jobId: 'busy-1', type: 'busy', input: null });
    // The progress, then a renewal every 50 ms of the 400 ms call: about 8, and at least 3 on a loaded machine.
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats.at(-1)).toEqual({ progress: { percent: 100, message: 'warming up' }, log: ['loaded {"layers":2}'] });
    expect(lines).toEqual(['[busy-1#1] loaded {"layers":2}']);
  });

  it('aborts the handler signal on cancellation and reports the attempt as cancelled', async () => {
    let aborted = false;
    const job = defineJob({
      type: 'wait',
      input: z.null(),
      async handler(_input, ctx) {
        ctx.signal.addEventListener('abort', () => (aborted = true));
        await sleep(60_000, undefined, { signal: ctx.signal });
      },
    });
    const { executeJob } = activitiesFor(job);
    const env = mockEnv();
    const run = env.run(executeJob, { jobId: 'w', type: 'wait', input: null });
    setTimeout(() => env.cancel(), 50);
    await expect(run).rejects.toBeInstanceOf(CancelledFailure);
    expect(aborted).toBe(true);
  });

  it('hands the job back as a retryable WorkerShutdown failure when a drain runs out of grace', async () => {
    const job = defineJob({
      type: 'long',
      input: z.null(),
      handler: (_input, ctx) => sleep(60_000, undefined, { signal: ctx.signal }),
    });
    const { executeJob } = activitiesFor(job);
    const env = mockEnv();
    const run = env.run(executeJob, { jobId: 'l', type: 'long', input: null });
    setTimeout(() => env.cancel('WORKER_SHUTDOWN'), 50);
    expect(await failureOf(run)).toMatchObject({ type: 'WorkerShutdown', nonRetryable: false });
  });

  it('carries the last checkpoint into the next attempt, and keeps it in every heartbeat until replaced', async () => {
    const seen: unknown[] = [];
    const job = defineJob({
      type: 'resume',
      input: z.null(),
      async handler(_input, ctx) {
        seen.push(ctx.resumeFrom);
        await sleep(60); // renewals (every 30 ms) before this attempt's first checkpoint still carry the old one
        ctx.checkpoint({ step: 2 });
        return 'ok';
      },
    });
    const { executeJob } = activitiesFor(job);
    const env = mockEnv({
      attempt: 2,
      heartbeatTimeoutMs: 90,
      heartbeatDetails: { progress: null, log: [], checkpoint: { step: 1 } },
    });
    const beats: HeartbeatDetails[] = [];
    (env as unknown as EventEmitter).on('heartbeat', (details: HeartbeatDetails) =>
      beats.push(structuredClone(details)),
    );
    await env.run(executeJob, { jobId: 'r', type: 'resume', input: null });
    expect(seen).toEqual([{ step: 1 }]);
    expect(beats[0]?.checkpoint).toEqual({ step: 1 });
    expect(beats.at(-1)?.checkpoint).toEqual({ step: 2 });
  });

  it('has nothing to resume from on a first attempt, and refuses checkpoints that are not small JSON', async () => {
    const errors: string[] = [];
    const job = defineJob({
      type: 'bad-checkpoint',
      input: z.null(),
      handler(_input, ctx) {
        for (const value of [undefined, () => 1, 'x'.repeat(300 * 1024)]) {
          try {
            ctx.checkpoint(value);
          } catch (err) {
            errors.push((err as Error).message);
          }
        }
        return ctx.resumeFrom ?? 'none';
      },
    });
    const { executeJob } = activitiesFor(job);
    expect(await mockEnv().run(executeJob, { jobId: 'b', type: 'bad-checkpoint', input: null })).toMatchObject({
      output: 'none',
    });
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/must be JSON/);
    expect(errors[2]).toMatch(/at most 262144 bytes/);
  });

  it('sends progress and a checkpoint made in the same tick in one heartbeat', async () => {
    const job = defineJob({
      type: 'together',
      input: z.null(),
      async handler(_input, ctx) {
        await sleep(30);
        ctx.progress(40, 'slept 2 of 5 s');
        ctx.checkpoint({ sleptSeconds: 2 });
        await sleep(30);
        return 'ok';
      },
    });
    const { executeJob } = activitiesFor(job);
    const env = mockEnv({ heartbeatTimeoutMs: 30_000 });
    const beats: HeartbeatDetails[] = [];
    (env as unknown as EventEmitter).on('heartbeat', (details: HeartbeatDetails) =>
      beats.push(structuredClone(details)),
    );
    await env.run(executeJob, { jobId: 't', type: 'together', input: null });
    // A view that shows this progress implies the checkpoint is stored: no heartbeat carries one without the other.
    const withProgress = beats.filter((beat) => beat.progress?.percent === 40);
    expect(withProgress.length).toBeGreaterThan(0);
    for (const beat of withProgress) expect(beat.checkpoint).toEqual({ sleptSeconds: 2 });
  });
});

describe('executeJob heartbeats (each one is a billable action)', () => {
  const recorder = (info: Partial<Info>) => {
    const env = mockEnv(info);
    const beats: HeartbeatDetails[] = [];
    (env as unknown as EventEmitter).on('heartbeat', (details: HeartbeatDetails) =>
      beats.push(structuredClone(details)),
    );
    return { env, beats };
  };

  it('sends none for a job that ends within a third of its lease', async () => {
    const job = defineJob({ type: 'quick', input: z.null(), handler: () => 'ok' });
    const { executeJob } = activitiesFor(job);
    const { env, beats } = recorder({ heartbeatTimeoutMs: 30_000 });
    await env.run(executeJob, { jobId: 'q', type: 'quick', input: null });
    expect(beats).toHaveLength(0);
  });

  it("sends progress reported every 10 ms at the job's freshness, and no more", async () => {
    const job = defineJob({
      type: 'chatty',
      input: z.null(),
      async handler(_input, ctx) {
        for (let i = 1; i <= 30; i += 1) {
          await sleep(10);
          ctx.progress(i);
        }
        return 'ok';
      },
    });
    const { executeJob } = activitiesFor(job);
    const { env, beats } = recorder({ heartbeatTimeoutMs: 30_000 });
    const startedMs = performance.now();
    await env.run(executeJob, { jobId: 'c', type: 'chatty', input: null, progressFreshnessMs: 100 });
    const elapsedMs = performance.now() - startedMs;
    // 30 reports over at least 300 ms at 100 ms freshness: the first at once, one per 100 ms, the last unsent one at
    // the end (a loaded machine stretches the run, not the spacing).
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect(beats.length).toBeLessThanOrEqual(Math.floor(elapsedMs / 100) + 2);
    expect(beats.length).toBeLessThan(30);
  });
});
