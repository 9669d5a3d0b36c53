import type { WorkflowExecutionInfo, WorkflowExecutionStatusName } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { listedJobView } from '../../jobs/job-listing.js';
import { jobsQuery, jobStatusOfRecord, STATUS_CONDITIONS } from '../../jobs/visibility-status.js';
import type { JobMemo } from '../../contracts/run-job.js';
import { JobStatusKey, JobTypeKey } from '../../protocol/search-attributes.js';
import { JOB_STATUSES } from '../../contracts/status.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('jobStatusOfRecord', () => {
  it.each([
    ['RUNNING', 'IN_QUEUE', 'IN_QUEUE'],
    ['RUNNING', undefined, 'IN_QUEUE'],
    ['RUNNING', 'IN_PROGRESS', 'IN_PROGRESS'],
    // The attempt has ended and the workflow is closing: not queued again.
    ['RUNNING', 'COMPLETED', 'IN_PROGRESS'],
    ['COMPLETED', 'COMPLETED', 'COMPLETED'],
    ['CANCELLED', 'CANCELLED', 'CANCELLED'],
    ['FAILED', 'FAILED', 'FAILED'],
    ['FAILED', 'TIMED_OUT', 'TIMED_OUT'],
    ['FAILED', undefined, 'FAILED'],
    ['TIMED_OUT', 'IN_QUEUE', 'TIMED_OUT'],
    // A terminated workflow keeps its last JobStatus, whatever it was.
    ['TERMINATED', 'IN_PROGRESS', 'FAILED'],
    ['TERMINATED', 'TIMED_OUT', 'FAILED'],
    ['TERMINATED', undefined, 'FAILED'],
  ] as const)('%s with JobStatus %s reads %s', (execution, jobStatus, expected) => {
    expect(jobStatusOfRecord(execution, jobStatus)).toBe(expected);
  });
});

describe('jobsQuery', () => {
  it('selects the runJob workflows of one control task queue', () => {
    expect(jobsQuery({ controlTaskQueue: 'gpuflow-control' })).toBe(
      "WorkflowType = 'runJob' AND TaskQueue = 'gpuflow-control'",
    );
  });

  it('adds the type and the status condition', () => {
    expect(jobsQuery({ controlTaskQueue: 'q', type: 'echo', status: 'TIMED_OUT' })).toBe(
      "WorkflowType = 'runJob' AND TaskQueue = 'q' AND JobType = 'echo' AND " +
        "((ExecutionStatus = 'Failed' AND JobStatus = 'TIMED_OUT') OR ExecutionStatus = 'TimedOut')",
    );
  });

  it('has a condition for every status, and lets a missing JobStatus count as FAILED on a closed workflow', () => {
    expect(Object.keys(STATUS_CONDITIONS).sort()).toEqual([...JOB_STATUSES].sort());
    expect(STATUS_CONDITIONS.FAILED).toContain('JobStatus IS NULL');
  });

  it('refuses a value that could escape its string literal', () => {
    expect(() => jobsQuery({ controlTaskQueue: "q' OR 'a' = 'a" })).toThrow(TypeError);
  });
});

function record(
  status: WorkflowExecutionStatusName,
  options: { memo?: JobMemo; jobStatus?: string; closedAt?: number } = {},
): WorkflowExecutionInfo {
  return {
    workflowId: 'sleep-abc',
    status: { name: status },
    startTime: new Date(T0),
    closeTime: options.closedAt === undefined ? undefined : new Date(options.closedAt),
    memo: options.memo ?? {},
    typedSearchAttributes: new TypedSearchAttributes([
      { key: JobTypeKey, value: 'sleep' },
      ...(options.jobStatus ? [{ key: JobStatusKey, value: options.jobStatus }] : []),
    ]),
  } as unknown as WorkflowExecutionInfo;
}
const attempt2: JobMemo = { attempt: 2, workerId: 'gpu-1', scheduledAt: iso(T0 + 1000), startedAt: iso(T0 + 1250) };

describe('listedJobView', () => {
  it('shows a queued job with nothing started yet', () => {
    expect(listedJobView(record('RUNNING', { jobStatus: 'IN_QUEUE' }))).toEqual({
      id: 'sleep-abc',
      type: 'sleep',
      status: 'IN_QUEUE',
      attempt: 0,
      progress: null,
      createdAt: iso(T0),
      startedAt: null,
      completedAt: null,
      delayTimeMs: null,
      executionTimeMs: null,
      workerId: null,
      artifacts: [],
    });
  });

  it('shows a completed job with its times from the memo and no output', () => {
    const view = listedJobView(record('COMPLETED', { jobStatus: 'COMPLETED', memo: attempt2, closedAt: T0 + 4250 }));
    expect(view).toMatchObject({
      status: 'COMPLETED',
      attempt: 2,
      workerId: 'gpu-1',
      startedAt: iso(T0 + 1250),
      completedAt: iso(T0 + 4250),
      delayTimeMs: 250,
      executionTimeMs: 3000,
    });
    expect(view).not.toHaveProperty('output');
    expect(view).not.toHaveProperty('error');
  });

  it('shows the error the workflow kept in its memo, as FAILED or TIMED_OUT by the JobStatus it set', () => {
    const error = { type: 'ExecutionTimeout', message: 'too long', retryable: true, workerId: 'gpu-1' };
    const timedOut = record('FAILED', { jobStatus: 'TIMED_OUT', memo: { ...attempt2, error }, closedAt: T0 + 9000 });
    expect(listedJobView(timedOut)).toMatchObject({ status: 'TIMED_OUT', error });
  });

  it('gives a terminated job a Terminated error even though its JobStatus still says IN_PROGRESS', () => {
    const view = listedJobView(record('TERMINATED', { jobStatus: 'IN_PROGRESS', memo: attempt2, closedAt: T0 + 2000 }));
    expect(view).toMatchObject({
      status: 'FAILED',
      error: { type: 'Terminated', retryable: true, workerId: 'gpu-1' },
      executionTimeMs: 750,
    });
  });
});
