import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/workflow';
import type { AttemptFacts } from '../protocol/activity.js';
import { AttemptFailureDetailsSchema } from '../protocol/failures.js';

/**
 * The facts of the attempt a failure or cancellation ended (attempt, worker, when it was queued and started), as
 * its worker put them in the details; undefined when it did not (a worker of an earlier build, a lost worker).
 */
export function attemptFactsOfFailure(err: unknown): AttemptFacts | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure) && !(cause instanceof CancelledFailure)) return undefined;
  const parsed = AttemptFailureDetailsSchema.safeParse(cause.details?.[0]);
  return parsed.success ? parsed.data.attemptFacts : undefined;
}
