import {
  ApplicationFailure,
  TerminatedFailure,
  WorkflowFailedError,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { defaultPayloadConverter, RetryState, TypedSearchAttributes } from '@temporalio/common';
import { msNumberToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { buildJobView } from '../../jobs/job-view.js';
import type { HeartbeatDetails } from '../../protocol/heartbeat.js';
import type { JobMemo } from '../../contracts/run-job.js';
import { JobTypeKey } from '../../protocol/search-attributes.js';

const { PendingActivityState } = proto.temporal.api.enums.v1;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

type Pending = proto.temporal.api.workflow.v1.IPendingActivityInfo;
function description(
  status: string,
  options: { memo?: JobMemo; pending?: Pending; closedAt?: number; historyLength?: number } = {},
) {
  return {
    historyLength: options.historyLength ?? 3,
    workflowId: 'sleep-abc',
    status: { name: status },
    startTime: new Date(T0),
    closeTime: options.closedAt === undefined ? undefined : new Date(options.closedAt),
    memo: options.memo ?? {},
    typedSearchAttributes: new TypedSearchAttributes([{ key: JobTypeKey, value: 'sleep' }]),
    raw: { pendingActivities: options.pending ? [options.pending] : [] },
  } as unknown as WorkflowExecutionDescription;
}
const attempt1: JobMemo = { attempt: 1, workerId: 'gpu-1', scheduledAt: iso(T0 + 10), startedAt: iso(T0 + 30) };
const running = { kind: 'running' } as const;
const view = (d: WorkflowExecutionDescription, outcome: Parameters<typeof buildJobView>[1] = running) =>
  buildJobView(d, outcome, defaultPayloadConverter);

describe('buildJobView', () => {
  it('reads a job whose first attempt has not been scheduled yet as IN_QUEUE with no attempt', () => {
    expect(view(description('RUNNING'))).toMatchObject({
      id: 'sleep-abc',
      type: 'sleep',
      status: 'IN_QUEUE',
      attempt: 0,
      createdAt: iso(T0),
      startedAt: null,
    });
  });

  it('reads a started attempt as IN_PROGRESS with the progress of its last heartbeat', () => {
    const details: HeartbeatDetails = { progress: { percent: 40, message: 'denoising' }, log: [] };
    const pending: Pending = {
      state: PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      attempt: 1,
      lastStartedTime: msNumberToTs(T0 + 30),
      lastWorkerIdentity: 'gpu-1',
      heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload(details)] },
    };
    expect(view(description('RUNNING', { memo: attempt1, pending }))).toMatchObject({
      status: 'IN_PROGRESS',
      attempt: 1,
      progress: { percent: 40, message: 'denoising' },
      startedAt: iso(T0 + 30),
      workerId: 'gpu-1',
      delayTimeMs: 20,
      executionTimeMs: null,
    });
  });

  it('reads an attempt waiting for its retry as IN_QUEUE, counting only the attempts that ran', () => {
    const pending: Pending = { state: PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED, attempt: 2 };
    expect(view(description('RUNNING', { memo: attempt1, pending }))).toMatchObject({ status: 'IN_QUEUE', attempt: 1 });
  });

  it('never reads a job whose attempt just ended (workflow still closing) as IN_QUEUE', () => {
    expect(view(description('RUNNING', { memo: attempt1, historyLength: 9 })).status).toBe('IN_PROGRESS');
    // Even before the workflow has seen the attempt's start: the orchestrator may be down while the worker ran it.
    expect(view(description('RUNNING', { historyLength: 7 })).status).toBe('IN_PROGRESS');
  });

  it('reads a completed job with its output and timings', () => {
    const d = description('COMPLETED', { memo: attempt1, closedAt: T0 + 1030 });
    expect(view(d, { kind: 'completed', output: { slept: 1 } })).toMatchObject({
      status: 'COMPLETED',
      output: { slept: 1 },
      completedAt: iso(T0 + 1030),
      executionTimeMs: 1000,
      delayTimeMs: 20,
    });
  });

  it("reads a completed job's executionTimeMs as the handler's own time when its worker measured it", () => {
    const d = description('COMPLETED', { memo: { ...attempt1, handlerTimeMs: 3.25 }, closedAt: T0 + 1030 });
    expect(view(d, { kind: 'completed', output: null })).toMatchObject({ status: 'COMPLETED', executionTimeMs: 3.25 });
  });

  it('reads the failure type: a timeout ends TIMED_OUT, anything else FAILED, with who raised it', () => {
    const failed = (type: string, retryable: boolean) =>
      new WorkflowFailedError(
        'Workflow execution failed',
        ApplicationFailure.create({
          type,
          message: `${type} happened`,
          nonRetryable: true,
          details: [{ retryable, workerId: 'gpu-2' }],
        }),
        RetryState.NON_RETRYABLE_FAILURE,
      );
    const d = description('FAILED', { memo: attempt1, closedAt: T0 + 2000 });
    expect(view(d, { kind: 'failed', failure: failed('ExecutionTimeout', true) })).toMatchObject({
      status: 'TIMED_OUT',
      error: { type: 'ExecutionTimeout', message: 'ExecutionTimeout happened', retryable: true, workerId: 'gpu-2' },
    });
    expect(view(d, { kind: 'failed', failure: failed('JobError', false) })).toMatchObject({
      status: 'FAILED',
      error: { type: 'JobError', retryable: false, workerId: 'gpu-2' },
    });
  });

  it('reads a cancelled job as CANCELLED and a terminated one as FAILED with a Terminated error', () => {
    expect(view(description('CANCELLED', { closedAt: T0 + 5 }), { kind: 'failed', failure: undefined }).status).toBe(
      'CANCELLED',
    );
    const terminated = new WorkflowFailedError(
      'terminated',
      new TerminatedFailure('by operator'),
      RetryState.NON_RETRYABLE_FAILURE,
    );
    expect(
      view(description('TERMINATED', { closedAt: T0 + 5 }), { kind: 'failed', failure: terminated }),
    ).toMatchObject({
      status: 'FAILED',
      error: { type: 'Terminated', message: 'by operator' },
    });
  });
});

describe('buildJobView with values a worker got wrong', () => {
  it('reads a pending heartbeat field by field: bad progress dropped, artifacts that fit still listed', () => {
    const bad = {
      progress: { percent: '40' },
      log: 7,
      artifacts: [{ name: 'a.txt', size: 1, contentType: 'text/plain' }],
    };
    const pending: Pending = {
      state: PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      attempt: 1,
      heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload(bad)] },
    };
    expect(view(description('RUNNING', { pending }))).toMatchObject({
      status: 'IN_PROGRESS',
      progress: null,
      artifacts: [{ name: 'a.txt', url: '/v1/jobs/sleep-abc/artifacts/a.txt' }],
    });
  });

  it('gives a failure with details of the wrong shape its type and message, and the memo a generic error', () => {
    const failure = new WorkflowFailedError(
      'failed',
      ApplicationFailure.create({ type: 'Boom', message: 'it broke', nonRetryable: true, details: ['nope'] }),
      RetryState.NON_RETRYABLE_FAILURE,
    );
    const failed = description('FAILED', { memo: { ...attempt1, error: 5 } as unknown as JobMemo, closedAt: T0 + 90 });
    expect(view(failed, { kind: 'failed', failure })).toMatchObject({
      status: 'FAILED',
      error: { type: 'Boom', message: 'it broke', retryable: false, workerId: 'gpu-1' },
    });
  });
});
