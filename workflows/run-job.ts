import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  TimeoutFailure,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { JobActivities } from '../activities/execute-job.js';
import type { JobMemo, RunJobInput } from '../contracts/run-job.js';
import type { JobPolicy } from '../contracts/job.js';
import type { JobStatus } from '../contracts/status.js';
import { attemptActivitySummary } from '../contracts/job-summaries.js';
import type { ExecuteJobResume } from '../protocol/activity.js';
import type { Artifact } from '../protocol/blobs.js';
import { FailureTypes, NON_RETRYABLE_FAILURE_TYPES, TIMEOUT_FAILURE_TYPES } from '../protocol/failure-types.js';
import type { JobFailureDetails } from '../protocol/failures.js';
import {
  readAttemptFacts,
  readAttemptFailed,
  readAttemptFailureDetails,
  readExecuteJobResult,
  readHeartbeatDetails,
} from '../protocol/readers.js';
import { JobStatusKey } from '../protocol/search-attributes.js';
import { attemptFailedSignal, attemptStartedSignal, streamChunksSignal } from '../protocol/signal-definitions.js';
import { jobTaskQueue } from '../protocol/task-queues.js';
import { attemptFactsOfFailure, progressOfCancel } from './attempt-facts.js';
import { startWebhookDelivery } from './deliver-webhook.js';
import { attemptsLeft, resumeAfterDrain, type DrainState } from './drained-attempt.js';

/** Retry backoff between attempts; the number of attempts comes from the job's policy. */
const RETRY_BACKOFF = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;

function setStatus(status: JobStatus): void {
  upsertSearchAttributes([{ key: JobStatusKey, value: status }]);
}

/**
 * One job, one workflow: schedules the job's handler as the `executeJob` activity on the task queue of its type,
 * where only workers that serve that type poll. The workflow's result is the handler's output; a failed job
 * fails the workflow with an ApplicationFailure whose `type` says what went wrong.
 *
 * The client sets `JobType` and `JobStatus=IN_QUEUE` at start; this keeps `JobStatus` current afterwards.
 * With a webhook, every way out starts its delivery (a child workflow left running) once the status is final.
 */
export async function runJob(job: RunJobInput): Promise<unknown> {
  let latestAttempt = 0;
  // Signals come from workers in any language: one that does not fit the protocol is ignored, never trusted.
  setHandler(attemptStartedSignal, (arg) => {
    const facts = readAttemptFacts(arg);
    // A signal from an attempt the server has already given up on (a lost worker's) must not hide the newer one.
    if (!facts || facts.attempt < latestAttempt) return;
    latestAttempt = facts.attempt;
    upsertMemo({ ...facts });
    setStatus('IN_PROGRESS');
  });
  // Stream chunks live in the history, where the API reads them; a handler keeps them out of the workflow's memory.
  setHandler(streamChunksSignal, () => undefined);
  setHandler(attemptFailedSignal, (arg) => {
    // Temporal retries the activity on its own; until the next attempt starts, the job is queued again.
    if (readAttemptFailed(arg)?.attempt === latestAttempt) setStatus('IN_QUEUE');
  });

  // A drain is the operator's doing: runs started since this patch take a drained attempt back from Temporal's
  // retry (WorkerShutdown is not retried) and schedule the job again without counting it. Older histories retried.
  const drainAware = patched('drain-resume');
  const drain: DrainState = { resume: undefined, drains: 0 };
  const executeJob = (resume: ExecuteJobResume | undefined) => {
    const ttlLeftMs = job.policy.ttlMs - (Date.now() - workflowInfo().runStartTime.getTime());
    const { executeJob: execute } = proxyActivities<JobActivities>({
      taskQueue: jobTaskQueue(job.type),
      startToCloseTimeout: job.policy.executionTimeoutMs,
      // The TTL bounds the whole life: time in the queue, every attempt and the waits between them.
      scheduleToCloseTimeout: resume ? Math.max(1, ttlLeftMs) : job.policy.ttlMs,
      // The lease: the worker heartbeats on its own timer; silence this long means the worker is gone.
      heartbeatTimeout: job.policy.heartbeatTimeoutMs,
      retry: {
        ...RETRY_BACKOFF,
        maximumAttempts: resume
          ? attemptsLeft(job.policy.maxAttempts, resume.attemptOffset, drain.drains)
          : job.policy.maxAttempts,
        nonRetryableErrorTypes: drainAware
          ? [...NON_RETRYABLE_FAILURE_TYPES, FailureTypes.workerShutdown]
          : [...NON_RETRYABLE_FAILURE_TYPES],
      },
      // Don't report cancellation until the handler has really stopped: a GPU is not free before that.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      priority: { priorityKey: job.policy.priority },
      // What the Temporal UI shows for this activity (user metadata: no effect on replay).
      summary: attemptActivitySummary(job.type, job.policy.maxAttempts, drain.drains),
    });
    const blobStore = job.blobStore ? { blobStore: job.blobStore } : {};
    const freshness = job.policy.progressFreshnessMs ? { progressFreshnessMs: job.policy.progressFreshnessMs } : {};
    const { jobId, type, input } = job;
    return execute({ jobId, type, input, ...(resume ? { resume } : {}), ...blobStore, ...freshness });
  };
  const executeUntilNotDrained = async (): Promise<unknown> => {
    for (;;) {
      try {
        return await executeJob(drain.resume);
      } catch (err) {
        const resume = drainAware && !CancellationScope.current().consideredCancelled && resumeAfterDrain(err, drain);
        if (!resume) throw err;
        drain.drains += 1;
        drain.resume = resume;
        upsertMemo({ attemptOffset: resume.attemptOffset });
        setStatus('IN_QUEUE');
      }
    }
  };

  try {
    const raw = await executeUntilNotDrained();
    const result = readExecuteJobResult(raw);
    if (!result) throw malformedResult();
    const { output, artifacts, attemptFacts, handlerTimeMs } = result;
    // The pending activity's heartbeat (which listed them while it ran) is gone once it has completed.
    const memo: JobMemo = { ...attemptFacts, ...(handlerTimeMs !== undefined ? { handlerTimeMs } : {}) };
    if (artifacts.length > 0) memo.artifacts = artifacts;
    if (Object.keys(memo).length > 0) upsertMemo(memo);
    setStatus('COMPLETED');
    await startWebhookDelivery(job.jobId, job.webhook);
    return output;
  } catch (err) {
    // A job cancelled by the user stays CANCELLED even when its attempt ended otherwise on the way out (say the
    // worker died before confirming the cancel, and the lease ran out).
    const artifacts = artifactsOfFailure(err);
    // Workers no longer report an attempt's start: its facts come with its end, in the failure's details, and go
    // into the memo upserts this path makes anyway (listings read the memo).
    const facts = attemptFactsOfFailure(err) ?? {};
    const cancelled = isCancellation(err) || CancellationScope.current().consideredCancelled;
    // A cancelled job's view keeps its last progress (the pending activity that held it is gone); it rides in the
    // upserts below, which the same workers' details already cause: no command is added.
    const progress = cancelled ? progressOfCancel(err) : {};
    if (artifacts.length > 0) upsertMemo({ ...facts, ...progress, artifacts });
    if (cancelled) {
      // Runs before this patch upserted the memo of a cancelled job only for its artifacts.
      if (artifacts.length === 0 && 'attempt' in facts && patched('attempt-facts-at-end')) {
        upsertMemo({ ...facts, ...progress });
      }
      setStatus('CANCELLED');
      await startWebhookDelivery(job.jobId, job.webhook);
      throw isCancellation(err) ? err : new CancelledFailure('cancelled; the attempt ended without confirming it');
    }
    const failure = toJobFailure(err, job.policy);
    const details = failure.details?.[0] as JobFailureDetails;
    const error: JobMemo['error'] = { type: failure.type ?? 'Error', message: failure.message, ...details };
    upsertMemo({ ...facts, error });
    setStatus(TIMEOUT_FAILURE_TYPES.has(error.type) ? 'TIMED_OUT' : 'FAILED');
    await startWebhookDelivery(job.jobId, job.webhook);
    throw failure;
  }
}

/** Turns whatever ended the activity into the failure a user reads in the job's `error`. */
function toJobFailure(err: unknown, policy: JobPolicy): ApplicationFailure {
  const workerId = err instanceof ActivityFailure ? (err.identity ?? null) : null;
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const fail = (type: string, message: string, retryable: boolean): ApplicationFailure => {
    const details: JobFailureDetails = { retryable, workerId };
    return ApplicationFailure.create({ type, message, nonRetryable: true, details: [details], cause: err as Error });
  };
  if (cause instanceof ApplicationFailure) {
    return fail(cause.type ?? 'Error', cause.message, !cause.nonRetryable);
  }
  if (cause instanceof TimeoutFailure) {
    switch (cause.timeoutType) {
      case TimeoutType.START_TO_CLOSE:
        return fail(
          FailureTypes.executionTimeout,
          `attempt ran longer than executionTimeoutMs (${policy.executionTimeoutMs} ms)`,
          true,
        );
      case TimeoutType.HEARTBEAT:
        return fail(
          FailureTypes.workerLost,
          `worker sent no heartbeat for heartbeatTimeoutMs (${policy.heartbeatTimeoutMs} ms)`,
          true,
        );
      default:
        return fail(FailureTypes.ttlExpired, `job did not finish within ttlMs (${policy.ttlMs} ms)`, true);
    }
  }
  return fail('Error', cause instanceof Error ? cause.message : String(cause), true);
}

/** A completed attempt whose result does not fit the protocol: the job fails, the value is not passed on. */
function malformedResult(): ApplicationFailure {
  const details: JobFailureDetails = { retryable: false, workerId: null };
  return ApplicationFailure.create({
    type: FailureTypes.malformedResult,
    message: 'the worker completed the job with a result that does not fit the job protocol (executeJob result)',
    nonRetryable: true,
    details: [details],
  });
}

/**
 * The artifacts an attempt that did not complete had stored: in the details of the worker's failure or
 * cancellation, else in the last heartbeat a timeout carries. A job that does not complete keeps its files listed.
 */
function artifactsOfFailure(err: unknown): Artifact[] {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure || cause instanceof CancelledFailure) {
    return readAttemptFailureDetails(cause.details?.[0])?.artifacts ?? [];
  }
  if (cause instanceof TimeoutFailure) {
    return readHeartbeatDetails(cause.lastHeartbeatDetails)?.artifacts ?? [];
  }
  return [];
}
