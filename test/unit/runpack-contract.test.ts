import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../config/env.js';
import {
  gpuflowTypeOf,
  progressOf,
  progressPairOf,
  runpackErrorOf,
  runpackStatusOf,
  runpackTypeOf,
} from '../../contracts/runpack.js';
import type { JobView } from '../../contracts/job.js';

const error = (message: string, type = 'JobError') => ({ type, message, retryable: false, workerId: null });

describe('Runpack status mapping', () => {
  it("maps gpuflow's six statuses onto Runpack's five, cancelled and timed-out jobs as failed with why", () => {
    const cases: [Pick<JobView, 'status' | 'progress' | 'error'>, string, string | null][] = [
      [{ status: 'IN_QUEUE', progress: null }, 'pending', null],
      [{ status: 'IN_PROGRESS', progress: null }, 'claimed', null],
      [{ status: 'IN_PROGRESS', progress: { percent: 50, message: '1/2' } }, 'in_progress', null],
      [{ status: 'COMPLETED', progress: null }, 'completed', null],
      [{ status: 'FAILED', progress: null, error: error('boom') }, 'failed', 'boom'],
      [{ status: 'CANCELLED', progress: null }, 'failed', 'cancelled'],
      [
        { status: 'TIMED_OUT', progress: null, error: error('ran past 60000 ms', 'ExecutionTimeout') },
        'failed',
        'timed out: ran past 60000 ms',
      ],
    ];
    for (const [view, status, message] of cases) {
      expect([view.status, runpackStatusOf(view), runpackErrorOf(view)]).toEqual([view.status, status, message]);
    }
  });

  it('reads both spellings of a job type as one gpuflow type', () => {
    expect(gpuflowTypeOf('example_task')).toBe('example-task');
    expect(gpuflowTypeOf('example-task')).toBe('example-task');
    expect(gpuflowTypeOf('Bad Type')).toBeUndefined();
    expect(runpackTypeOf('example-task')).toBe('example_task');
  });

  it("keeps a runner's progress pair through gpuflow's progress", () => {
    const progress = progressOf(50, 200, null);
    expect(progress).toEqual({ percent: 25, message: '50/200' });
    expect(progressPairOf(progress)).toEqual({ progress_current: 50, progress_total: 200 });
    expect(progressOf(undefined, undefined, progress)).toBe(progress);
  });
});

describe('Runpack keys and settings', () => {
  it('accepts SUBMIT_API_KEY, RUNNER_API_KEY and ADMIN_API_KEY as gpuflow keys of the matching roles', () => {
    const env = loadEnv({
      GPUFLOW_API_KEYS: 'gpuflow-own-key-0123456789:admin',
      SUBMIT_API_KEY: 'runpack-submit-0123456789',
      RUNNER_API_KEY: 'runpack-runner-0123456789',
      ADMIN_API_KEY: 'runpack-admin-01234567890',
    });
    expect(env.GPUFLOW_API_KEYS.map((key) => [key.key, key.role])).toEqual([
      ['gpuflow-own-key-0123456789', 'admin'],
      ['runpack-submit-0123456789', 'submit'],
      ['runpack-runner-0123456789', 'worker'],
      ['runpack-admin-01234567890', 'admin'],
    ]);
    expect(env.GPUFLOW_RUNPACK_HEARTBEAT_THRESHOLD_MS).toBe(90_000);
  });

  it('parses per-operation budgets and refuses unknown operations', () => {
    const env = loadEnv({ GPUFLOW_RUNPACK_RATE_LIMITS: 'submit=60/1m,heartbeat=10/10s' });
    expect(env.GPUFLOW_RUNPACK_RATE_LIMITS).toEqual({
      submit: { max: 60, windowMs: 60_000 },
      heartbeat: { max: 10, windowMs: 10_000 },
    });
    expect(() => loadEnv({ GPUFLOW_RUNPACK_RATE_LIMITS: 'launch=1/1m' })).toThrow(/GPUFLOW_RUNPACK_RATE_LIMITS/);
    expect(() => loadEnv({ RUNNER_API_KEY: 'short' })).toThrow(/RUNNER_API_KEY/);
  });
});
