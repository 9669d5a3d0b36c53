import type { WorkflowExecutionStatusName } from '@temporalio/client';
import { TIMEOUT_FAILURE_TYPES } from '../protocol/failures.js';
import type { JobStatus } from '../contracts/status.js';

/** What is known of one run, from a describe (the view) or from a visibility record (a listing row). */
export interface RunFacts {
  execution: WorkflowExecutionStatusName;
  /** The JobStatus search attribute the workflow keeps. */
  jobStatus?: string | undefined;
  /** The `type` of the error the job failed with (memo or failure), when known. */
  errorType?: string | undefined;
  /**
   * The run's pending attempt, from a describe: `queued` while it waits to start (the first attempt, or a retry
   * waiting out its backoff). `null`: the describe shows none. Absent: not known (visibility records), and the
   * JobStatus attribute (IN_QUEUE again after `attemptFailed`) tells.
   */
  pending?: { queued: boolean } | null;
  /** With `pending: null`: whether the workflow has scheduled its attempt already (memo or history length). */
  scheduled?: boolean;
}

/**
 * The one place that decides a job's status, for the job view and the listing row alike. A terminated workflow
 * keeps whatever JobStatus it had, so closed runs go by ExecutionStatus first; a failed run is TIMED_OUT when the
 * workflow said so (JobStatus) or its error is a timeout; a run that is still running is IN_QUEUE while its attempt
 * waits (the first, or a retry waiting), IN_PROGRESS otherwise, including when its last attempt has ended and the
 * workflow is closing (a finished job must not read as queued again).
 */
export function jobStatusOf(run: RunFacts): JobStatus {
  switch (run.execution) {
    case 'RUNNING':
      if (run.pending) return run.pending.queued ? 'IN_QUEUE' : 'IN_PROGRESS';
      if (run.pending === null) return run.scheduled ? 'IN_PROGRESS' : 'IN_QUEUE';
      return run.jobStatus === undefined || run.jobStatus === 'IN_QUEUE' ? 'IN_QUEUE' : 'IN_PROGRESS';
    case 'COMPLETED':
      return 'COMPLETED';
    case 'CANCELLED':
      return 'CANCELLED';
    case 'TIMED_OUT':
      return 'TIMED_OUT';
    case 'FAILED':
      return run.jobStatus === 'TIMED_OUT' || (run.errorType !== undefined && TIMEOUT_FAILURE_TYPES.has(run.errorType))
        ? 'TIMED_OUT'
        : 'FAILED';
    default:
      // TERMINATED, and states a runJob never reaches (it does not continue as new).
      return 'FAILED';
  }
}
