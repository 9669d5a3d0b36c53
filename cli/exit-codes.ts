import type { JobStatus } from '../contracts/status.js';

/**
 * Exit codes of the `gpuflow` client commands (README, "The CLI"). A script tells a job that ended badly from a
 * command that could not run: 1 is both a FAILED job and a request the API refused (the message says which).
 */
export const EXIT = {
  ok: 0,
  /** The job ended FAILED, or the API answered an error (404 unknown job, 400 bad input, ...). */
  failed: 1,
  /** A bad environment variable or command line. */
  usage: 2,
  timedOut: 3,
  cancelled: 4,
  /** The API could not be reached at all. */
  unreachable: 5,
} as const;

/** The exit code of `submit --wait` for a job that has ended with this status. */
export function exitCodeOf(status: JobStatus): number {
  if (status === 'FAILED') return EXIT.failed;
  if (status === 'TIMED_OUT') return EXIT.timedOut;
  if (status === 'CANCELLED') return EXIT.cancelled;
  return EXIT.ok;
}
