import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import type { AttemptFailureDetails } from '../protocol/failures.js';
import { FailureTypes } from '../protocol/failures.js';
import type { HeartbeatDetails } from '../protocol/heartbeat.js';
import { isJobError } from '../sdk/job-error.js';

/** What an attempt that threw knows about itself when it ends. */
export interface AttemptState {
  attempt: number;
  attemptFacts: NonNullable<AttemptFailureDetails['attemptFacts']>;
  artifacts: NonNullable<AttemptFailureDetails['artifacts']>;
  /** The attempt's last heartbeat details: its progress and checkpoint. */
  details: HeartbeatDetails;
}

/**
 * The failure an attempt that threw `err` reports. A job that ends FAILED, CANCELLED or TIMED_OUT keeps its files
 * listed (a failed render's debug dump), and its view names the attempt that ended it; a cancelled job's view keeps
 * the progress it had reached; a drained attempt carries its number and checkpoint to the next run.
 */
export function attemptFailure(err: unknown, signal: AbortSignal, state: AttemptState): Error {
  const { attempt, attemptFacts, artifacts, details } = state;
  const failureDetails: AttemptFailureDetails = { attemptFacts, ...(artifacts.length > 0 ? { artifacts } : {}) };
  const drainDetails: AttemptFailureDetails = { ...failureDetails, attempt };
  if ('checkpoint' in details) drainDetails.checkpoint = details.checkpoint;
  const cancelDetails: AttemptFailureDetails = { ...failureDetails, progress: details.progress };
  return endOfAbortedAttempt(signal, cancelDetails, drainDetails) ?? toApplicationFailure(err, failureDetails);
}

/**
 * What an attempt whose signal aborted ends with, whatever the handler threw on the way out. A cancel the server
 * asked for is reported as cancelled. A drain that ran out of grace is a `WorkerShutdown` failure carrying the
 * attempt's number and checkpoint: the server only accepts "cancelled" for a cancel it requested, and would
 * otherwise wait out the lease. The workflow schedules the job again from there without counting the attempt.
 */
function endOfAbortedAttempt(
  signal: AbortSignal,
  details: AttemptFailureDetails,
  drainDetails: AttemptFailureDetails,
): Error | undefined {
  if (!signal.aborted) return undefined;
  const reason: unknown = signal.reason;
  if (reason instanceof CancelledFailure && reason.message === 'WORKER_SHUTDOWN') {
    return ApplicationFailure.create({
      message: 'the worker shut down (a drain) before the job finished; the job runs again without using an attempt',
      type: FailureTypes.workerShutdown,
      details: [drainDetails],
    });
  }
  return new CancelledFailure(reason instanceof CancelledFailure ? reason.message : 'CANCELLED', [details]);
}

/** A handler's error as the attempt's failure: a `JobError` says whether to retry; details ride along. */
function toApplicationFailure(err: unknown, details: AttemptFailureDetails): ApplicationFailure {
  if (err instanceof ApplicationFailure) {
    if (err.details?.length) return err;
    return ApplicationFailure.create({
      message: err.message,
      type: err.type ?? undefined,
      nonRetryable: err.nonRetryable ?? false,
      details: [details],
    });
  }
  if (isJobError(err)) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.type,
      nonRetryable: !err.retryable,
      details: [details],
      cause: err,
    });
  }
  if (err instanceof Error) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.name || 'Error',
      details: [details],
      cause: err,
    });
  }
  return ApplicationFailure.create({ message: String(err), type: 'Error', details: [details] });
}
