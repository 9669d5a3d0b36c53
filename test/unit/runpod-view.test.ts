import { describe, expect, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import { RunPodRunBodySchema, RunPodWaitQuerySchema } from '../../contracts/runpod.js';
import { runpodErrorOf, runpodFailureOf, runpodViewOf } from '../../jobs/runpod-view.js';

const base: JobView = {
  id: 'echo-1',
  type: 'echo',
  status: 'IN_QUEUE',
  attempt: 0,
  progress: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: null,
  completedAt: null,
  delayTimeMs: null,
  executionTimeMs: null,
  workerId: null,
  artifacts: [],
};

describe('the RunPod view of a job', () => {
  it('shows a queued job as id and status only', () => {
    expect(runpodViewOf({ ...base, queue: { workers: 0, backlogCount: 1, paused: false } })).toEqual({
      id: 'echo-1',
      status: 'IN_QUEUE',
    });
  });

  it('shows a running job’s progress as output and its run time so far, in whole ms', () => {
    const running = runpodViewOf(
      {
        ...base,
        status: 'IN_PROGRESS',
        attempt: 1,
        startedAt: '2026-01-01T00:00:01.000Z',
        delayTimeMs: 1000.4,
        workerId: 'host-1',
        progress: { percent: 40, message: '4/10' },
      },
      Date.parse('2026-01-01T00:00:03.500Z'),
    );
    expect(running).toEqual({
      id: 'echo-1',
      status: 'IN_PROGRESS',
      delayTime: 1000,
      executionTime: 2500,
      workerId: 'host-1',
      output: { percent: 40, message: '4/10' },
    });
  });

  it('shows a completed job’s output, null included', () => {
    const done = { ...base, status: 'COMPLETED' as const, delayTimeMs: 5, executionTimeMs: 60, workerId: 'w' };
    expect(runpodViewOf({ ...done, output: 'Hello World' })).toEqual({
      id: 'echo-1',
      status: 'COMPLETED',
      delayTime: 5,
      executionTime: 60,
      workerId: 'w',
      output: 'Hello World',
    });
    expect(runpodViewOf({ ...done, output: null }).output).toBeNull();
  });

  it('carries a RunPod worker’s error value there and back, and shows other errors by their message', () => {
    for (const value of [
      'Input is missing the seed key.',
      '{"error_type": "<class \'ValueError\'>"}',
      { code: 7 },
      42,
      [1],
    ]) {
      const failure = runpodFailureOf(value);
      expect(runpodErrorOf({ ...failure, retryable: false, workerId: null })).toEqual(value);
    }
    const failed = { ...base, status: 'FAILED' as const };
    const error = { type: 'JobError', message: 'bad seed', retryable: false, workerId: 'w' };
    expect(runpodViewOf({ ...failed, error }).error).toBe('bad seed');
    expect(runpodViewOf({ ...base, status: 'CANCELLED' })).toEqual({ id: 'echo-1', status: 'CANCELLED' });
  });

  it('clamps ?wait to 1000..300000 ms, 90000 by default', () => {
    expect(RunPodWaitQuerySchema.parse({}).wait).toBe(90_000);
    expect(RunPodWaitQuerySchema.parse({ wait: '10' }).wait).toBe(1000);
    expect(RunPodWaitQuerySchema.parse({ wait: '999999' }).wait).toBe(300_000);
  });

  it('takes RunPod request bodies: unknown fields ignored, input required, RunPod’s policy bounds', () => {
    expect(RunPodRunBodySchema.safeParse({ input: {}, webhookV2: 'x' }).success).toBe(true);
    expect(RunPodRunBodySchema.safeParse({ input: null }).success).toBe(true);
    expect(RunPodRunBodySchema.safeParse({ webhook: 'https://example.com' }).success).toBe(false);
    expect(RunPodRunBodySchema.safeParse({ input: 1, policy: { executionTimeout: 1000 } }).success).toBe(false);
  });
});
