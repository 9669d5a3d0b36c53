import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/workflow';
import type { JobMemo } from '../contracts/run-job.js';
import type { AttemptFacts } from '../protocol/activity.js';
import { readAttemptFailureDetails } from '../protocol/readers.js';

/**
 * The facts of the attempt a failure or cancellation ended (attempt, worker, when it was queued and started), as
 * its worker put them in the details; undefined when it did not (a worker of an earlier build, a lost worker).
 */
export function attemptFactsOfFailure(err: unknown): AttemptFacts | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure) && !(cause instanceof CancelledFailure)) return undefined;
  return readAttemptFailureDetails(cause.details?.[0])?.attemptFacts;
}

/**
 * The last progress of the attempt a cancellation ended, as a memo field, when its worker put it in the details
 * (`{}` otherwise: a worker of an earlier build, a job cancelled in the queue).
 */
export function progressOfCancel(err: unknown): Pick<JobMemo, 'progress'> {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof CancelledFailure)) return {};
  const progress = readAttemptFailureDetails(cause.details?.[0])?.progress;
  return progress !== undefined ? { progress } : {};
}
