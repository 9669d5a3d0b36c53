import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { ExecuteJobResume } from '../protocol/activity.js';
import { FailureTypes } from '../protocol/failure-types.js';
import { readAttemptFailureDetails } from '../protocol/readers.js';

/** What the workflow keeps across drains: the resume of the next scheduling and the attempts that counted. */
export interface DrainState {
  resume: ExecuteJobResume | undefined;
  /** Attempts drained so far: they ran, but do not count against `maxAttempts`. */
  drains: number;
}

/**
 * The resume of the next scheduling when `err` is a drained attempt (`WorkerShutdown` from a worker whose drain ran
 * out of grace), else undefined. The worker names the attempt that ended; without that, the attempt is taken to be
 * the first of this scheduling.
 */
export function resumeAfterDrain(err: unknown, state: DrainState): ExecuteJobResume | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== FailureTypes.workerShutdown) return undefined;
  const details = readAttemptFailureDetails(cause.details?.[0]) ?? {};
  const attemptOffset = Math.max(details.attempt ?? 0, (state.resume?.attemptOffset ?? 0) + 1);
  const resume: ExecuteJobResume = { attemptOffset };
  const checkpoint = 'checkpoint' in details ? details.checkpoint : state.resume?.checkpoint;
  if (checkpoint !== undefined) resume.checkpoint = checkpoint;
  const artifacts = details.artifacts ?? state.resume?.artifacts;
  if (artifacts && artifacts.length > 0) resume.artifacts = artifacts;
  return resume;
}

/** Attempts left under `maxAttempts` when `attemptOffset` attempts ran, `drains` of them drained (at least one). */
export function attemptsLeft(maxAttempts: number, attemptOffset: number, drains: number): number {
  return Math.max(1, maxAttempts - (attemptOffset - drains));
}
