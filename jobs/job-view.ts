import { ApplicationFailure, TerminatedFailure, type WorkflowExecutionDescription } from '@temporalio/client';
import type { PayloadConverter } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import type { JobMemo } from '../contracts/run-job.js';
import { TIMEOUT_FAILURE_TYPES, type JobFailureDetails } from '../protocol/failures.js';
import type { HeartbeatDetails } from '../protocol/heartbeat.js';
import { artifactViews, type Artifact } from '../protocol/blobs.js';
import type { JobErrorView, JobView, Progress } from '../contracts/job.js';
import { JobTypeKey } from '../protocol/search-attributes.js';

// A CommonJS package: Node's ESM loader only sees its default export.
const { PendingActivityState } = proto.temporal.api.enums.v1;

/** How a job's run ended, read from its workflow's result or failure. */
export type JobOutcome =
  { kind: 'running' } | { kind: 'completed'; output: unknown } | { kind: 'failed'; failure: unknown };

/**
 * History before the activity is scheduled: WorkflowExecutionStarted, WorkflowTaskScheduled, WorkflowTaskStarted,
 * and at most one more (a cancel request). The task's completion and the activity's scheduling come together.
 */
const UNSCHEDULED_HISTORY_LENGTH = 4;

const iso = (ms: number | undefined | null): string | null => (ms == null ? null : new Date(ms).toISOString());
const msOf = (isoTime: string | undefined): number | undefined => (isoTime ? Date.parse(isoTime) : undefined);

/**
 * Builds the job view from one `describe()` of its workflow: status from the workflow and its pending activity,
 * progress from the last heartbeat's details (no worker needed), attempt facts from the memo the workflow keeps.
 */
export function buildJobView(
  description: WorkflowExecutionDescription,
  outcome: JobOutcome,
  payloads: PayloadConverter,
): JobView {
  const memo = (description.memo ?? {}) as JobMemo;
  const pending = description.raw.pendingActivities?.[0];
  const details = heartbeatOf(description, payloads);
  const base = {
    id: description.workflowId,
    type: description.typedSearchAttributes.get(JobTypeKey) ?? description.workflowId.replace(/-[^-]+$/, ''),
    createdAt: description.startTime.toISOString(),
    completedAt: iso(description.closeTime?.getTime()),
    progress: null as Progress | null,
    attempt: memo.attempt ?? 0,
    startedAt: memo.startedAt ?? null,
    workerId: memo.workerId ?? null,
    delayTimeMs: delayOf(memo),
    executionTimeMs: null as number | null,
    artifacts: artifactViews(description.workflowId, artifactsOf(description, details)),
  };

  if (outcome.kind === 'running') {
    // No pending activity: either the first workflow task has not scheduled it yet (history: started, task
    // scheduled, task started), or its last attempt has ended and the workflow is closing, which may take a while
    // if the orchestrator is down. A finished job must not read as queued again.
    if (!pending) {
      const scheduled = memo.startedAt !== undefined || description.historyLength > UNSCHEDULED_HISTORY_LENGTH;
      return { ...base, status: scheduled ? 'IN_PROGRESS' : 'IN_QUEUE' };
    }
    const queued =
      pending.state === PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED ||
      pending.state === PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED;
    const attempt = pending.attempt ?? 1;
    const startedMs = optionalTsToMs(pending.lastStartedTime);
    return {
      ...base,
      status: queued ? 'IN_QUEUE' : 'IN_PROGRESS',
      // While an attempt waits in the queue (the first, or a retry after a backoff), it has not started yet.
      attempt: queued ? attempt - 1 : attempt,
      progress: details?.progress ?? null,
      startedAt: queued ? base.startedAt : (iso(startedMs) ?? base.startedAt),
      workerId: queued ? base.workerId : pending.lastWorkerIdentity || base.workerId,
    };
  }

  const closedMs = description.closeTime?.getTime();
  const startedMs = msOf(memo.startedAt);
  const ended = { ...base, executionTimeMs: closedMs && startedMs ? Math.max(0, closedMs - startedMs) : null };
  if (outcome.kind === 'completed')
    return { ...ended, status: 'COMPLETED', output: outcome.output as JobView['output'] };

  switch (description.status.name) {
    case 'CANCELLED':
      return { ...ended, status: 'CANCELLED' };
    case 'TIMED_OUT':
      return {
        ...ended,
        status: 'TIMED_OUT',
        error: { type: 'TtlExpired', message: 'the job ran out of time', retryable: true, workerId: null },
      };
    default: {
      const error = errorOf(outcome.failure, ended.workerId);
      return { ...ended, status: TIMEOUT_FAILURE_TYPES.has(error.type) ? 'TIMED_OUT' : 'FAILED', error };
    }
  }
}

/** The last heartbeat of the run's pending attempt (progress, log, checkpoint, artifacts), if one is pending. */
export function heartbeatOf(
  description: WorkflowExecutionDescription,
  payloads: PayloadConverter,
): HeartbeatDetails | undefined {
  return decodeHeartbeat(description.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0], payloads);
}

/**
 * The artifacts of the run described: from the pending attempt's last heartbeat, else from the memo the workflow
 * wrote when the job ended (completed, or failed or cancelled with artifacts listed).
 */
export function artifactsOf(description: WorkflowExecutionDescription, heartbeat?: HeartbeatDetails): Artifact[] {
  return heartbeat?.artifacts ?? ((description.memo ?? {}) as JobMemo).artifacts ?? [];
}

function delayOf(memo: JobMemo): number | null {
  const scheduled = msOf(memo.scheduledAt);
  const started = msOf(memo.startedAt);
  return scheduled !== undefined && started !== undefined ? Math.max(0, started - scheduled) : null;
}

function decodeHeartbeat(
  payload: Parameters<PayloadConverter['fromPayload']>[0] | undefined,
  payloads: PayloadConverter,
) {
  if (!payload) return undefined;
  try {
    return payloads.fromPayload<HeartbeatDetails>(payload);
  } catch {
    return undefined;
  }
}

/** The `error` of a failed job: the ApplicationFailure the workflow failed with, or what ended it from outside. */
function errorOf(failure: unknown, workerId: string | null): JobErrorView {
  const cause = failure instanceof Error && failure.cause ? failure.cause : failure;
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as Partial<JobFailureDetails> | undefined;
    return {
      type: cause.type ?? 'Error',
      message: cause.message,
      retryable: details?.retryable ?? !cause.nonRetryable,
      workerId: details?.workerId ?? workerId,
    };
  }
  if (cause instanceof TerminatedFailure) {
    return { type: 'Terminated', message: cause.message || 'terminated by an operator', retryable: true, workerId };
  }
  return {
    type: 'Error',
    message: cause instanceof Error ? cause.message : 'the job failed',
    retryable: true,
    workerId,
  };
}
