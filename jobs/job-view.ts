import { ApplicationFailure, TerminatedFailure, type WorkflowExecutionDescription } from '@temporalio/client';
import type { PayloadConverter } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import type { JobMemo } from '../contracts/run-job.js';
import type { HeartbeatDetails } from '../protocol/heartbeat.js';
import { artifactViews, type Artifact } from '../protocol/blobs.js';
import type { JobErrorView, JobView, Progress } from '../contracts/job.js';
import { JobStatusKey, JobTypeKey } from '../protocol/search-attributes.js';
import { jobStatusOf } from './job-status.js';
import { WorkerValues } from './worker-values.js';

// A CommonJS package: Node's ESM loader only sees its default export.
const { PendingActivityState } = proto.temporal.api.enums.v1;

/**
 * How a job's run ended, read from its workflow's result or failure; `closed`: ended otherwise than completed, its
 * result not read because the memo and the description tell all the view needs (a FAILED job's error is in its memo).
 */
export type JobOutcome =
  | { kind: 'running' }
  | { kind: 'completed'; output: unknown }
  /** Completed, but its large output's blob is missing or damaged in the store: `why` says so. */
  | { kind: 'output-unavailable'; why: string }
  | { kind: 'failed'; failure: unknown }
  | { kind: 'closed' };

/** Error type in the view of a completed job whose large output can no longer be read from the blob store. */
export const OUTPUT_UNAVAILABLE = 'OutputUnavailable';

/** Used when the caller passes none: reports go to the console. */
const defaultValues = new WorkerValues();

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
  values: WorkerValues = defaultValues,
): JobView {
  const memo = values.memo(description.workflowId, description.memo);
  const pending = description.raw.pendingActivities?.[0];
  const details = heartbeatOf(description, payloads, values);
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
    artifacts: artifactViews(description.workflowId, artifactsOf(description, details, values)),
  };
  const jobStatus = description.typedSearchAttributes.get(JobStatusKey);

  if (description.status.name === 'RUNNING') {
    // No pending activity: either the first workflow task has not scheduled it yet (history: started, task
    // scheduled, task started), or its last attempt has ended and the workflow is closing, which may take a while
    // if the orchestrator is down.
    if (!pending) {
      const scheduled = memo.startedAt !== undefined || description.historyLength > UNSCHEDULED_HISTORY_LENGTH;
      return { ...base, status: jobStatusOf({ execution: 'RUNNING', jobStatus, pending: null, scheduled }) };
    }
    const queued =
      pending.state === PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED ||
      pending.state === PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED;
    // A job scheduled again after a drain goes on counting its attempts (the memo says how many ran before).
    const attempt = (pending.attempt ?? 1) + (memo.attemptOffset ?? 0);
    const startedMs = optionalTsToMs(pending.lastStartedTime);
    // A retry waiting in the queue (out a backoff, or for a worker) shows the attempt that failed, from the last
    // heartbeat the pending activity keeps when that attempt sent it (the server keeps no start time of its own).
    const lastFacts = queued && details?.attemptFacts?.attempt === attempt - 1 ? details.attemptFacts : undefined;
    const retrying = queued && (pending.attempt ?? 1) > 1;
    return {
      ...base,
      status: jobStatusOf({ execution: 'RUNNING', jobStatus, pending: { queued } }),
      // While an attempt waits in the queue (the first, or a retry after a backoff), it has not started yet.
      attempt: queued ? attempt - 1 : attempt,
      progress: details?.progress ?? null,
      startedAt: queued ? (lastFacts?.startedAt ?? base.startedAt) : (iso(startedMs) ?? base.startedAt),
      // Time in the queue of the running attempt: from its scheduling (a retry's, after its backoff) to its start.
      delayTimeMs: queued ? base.delayTimeMs : (delayOfPending(pending.scheduledTime, startedMs) ?? base.delayTimeMs),
      // The attempt's heartbeat (or, from workers of an earlier build, its start report) names the worker that runs
      // it; Temporal's poller identity would name the gateway for a job an HTTP runner holds.
      workerId:
        lastFacts?.workerId ??
        (queued && !retrying
          ? base.workerId
          : details?.workerId ||
            (memo.attempt === attempt ? memo.workerId : undefined) ||
            pending.lastWorkerIdentity ||
            base.workerId),
    };
  }

  const closedMs = description.closeTime?.getTime();
  const startedMs = msOf(memo.startedAt);
  // The handler's own time when its worker measured it (a completed attempt); else the attempt's span up to the
  // workflow's close, which includes reporting the end and the workflow task that closes the job.
  const executionTimeMs = memo.handlerTimeMs ?? (closedMs && startedMs ? Math.max(0, closedMs - startedMs) : null);
  const ended = { ...base, executionTimeMs };
  if (outcome.kind === 'completed')
    return { ...ended, status: 'COMPLETED', output: outcome.output as JobView['output'] };
  // The job did complete; what is lost is its stored output, which the view says instead of failing to answer.
  if (outcome.kind === 'output-unavailable') {
    const error = { type: OUTPUT_UNAVAILABLE, message: outcome.why, retryable: false, workerId: ended.workerId };
    return { ...ended, status: 'COMPLETED', error };
  }

  const error =
    description.status.name === 'TIMED_OUT'
      ? { type: 'TtlExpired', message: 'the job ran out of time', retryable: true, workerId: null }
      : (memo.error ??
        errorOf(
          description.workflowId,
          outcome.kind === 'failed' ? outcome.failure : undefined,
          ended.workerId,
          values,
        ));
  const status = jobStatusOf({ execution: description.status.name, jobStatus, errorType: error.type });
  // A cancelled job shows how far it got (its worker sent the last progress with the cancel's confirmation).
  if (status === 'CANCELLED') return { ...ended, status, progress: memo.progress ?? null };
  if (status === 'COMPLETED') return { ...ended, status };
  return { ...ended, status, error };
}

/** The last heartbeat of the run's pending attempt (progress, log, checkpoint, artifacts), if one is pending. */
export function heartbeatOf(
  description: WorkflowExecutionDescription,
  payloads: PayloadConverter,
  values: WorkerValues = defaultValues,
): Partial<HeartbeatDetails> | undefined {
  const payload = description.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
  if (!payload) return undefined;
  let raw: unknown;
  try {
    raw = payloads.fromPayload(payload);
  } catch (err) {
    values.unreadable(description.workflowId, 'heartbeat', err);
    return undefined;
  }
  return values.heartbeat(description.workflowId, raw);
}

/**
 * The artifacts of the run described: from the pending attempt's last heartbeat, else from the memo the workflow
 * wrote when the job ended (completed, or failed or cancelled with artifacts listed).
 */
export function artifactsOf(
  description: WorkflowExecutionDescription,
  heartbeat?: Partial<HeartbeatDetails>,
  values: WorkerValues = defaultValues,
): Artifact[] {
  return heartbeat?.artifacts ?? values.memo(description.workflowId, description.memo).artifacts ?? [];
}

function delayOfPending(scheduled: Parameters<typeof optionalTsToMs>[0], startedMs: number | undefined): number | null {
  const scheduledMs = optionalTsToMs(scheduled);
  return scheduledMs !== undefined && startedMs !== undefined ? Math.max(0, startedMs - scheduledMs) : null;
}

function delayOf(memo: JobMemo): number | null {
  const scheduled = msOf(memo.scheduledAt);
  const started = msOf(memo.startedAt);
  return scheduled !== undefined && started !== undefined ? Math.max(0, started - scheduled) : null;
}

/** The `error` of a failed job: the ApplicationFailure the workflow failed with, or what ended it from outside. */
function errorOf(jobId: string, failure: unknown, workerId: string | null, values: WorkerValues): JobErrorView {
  const cause = failure instanceof Error && failure.cause ? failure.cause : failure;
  if (cause instanceof ApplicationFailure) {
    const details = values.failureDetails(jobId, cause.details?.[0]);
    return {
      type: typeof cause.type === 'string' ? cause.type : 'Error',
      message: typeof cause.message === 'string' && cause.message ? cause.message : 'the job failed',
      retryable: details.retryable ?? !cause.nonRetryable,
      workerId: details.workerId !== undefined ? details.workerId : workerId,
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
