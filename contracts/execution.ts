import type { Artifact } from './blobs.js';
import type { JobErrorView, JobPolicy, Progress } from './job.js';

/** Argument of the `runJob` workflow. Stored in history, so it stays small and JSON-only. */
export interface RunJobInput {
  jobId: string;
  type: string;
  input: unknown;
  policy: JobPolicy;
  /** Where the job's view is POSTed when this run ends (`SubmitJob.webhook`). */
  webhook?: string;
}

/** Argument of the `executeJob` activity that runs a handler on a job worker. */
export interface ExecuteJobInput {
  jobId: string;
  type: string;
  input: unknown;
}

/** Sent by the worker when an attempt starts, so the workflow can mark the job IN_PROGRESS. */
export interface AttemptStarted {
  attempt: number;
  workerId: string;
  /** ISO-8601: when this attempt was scheduled (queued) and started on the worker. */
  scheduledAt: string;
  startedAt: string;
}

/**
 * Memo of a job's workflow: what the API needs for the view of a finished job without a worker, and for listings
 * (which read visibility records only, never a workflow's result).
 */
export type JobMemo = Partial<AttemptStarted> & {
  /** Set when the job ends FAILED or TIMED_OUT. */
  error?: JobErrorView;
  /** Set when the job completes with artifacts: the list outlives the pending activity's heartbeat details. */
  artifacts?: Artifact[];
};

/**
 * Result of the `executeJob` activity: the handler's output (a blob reference when large) and the artifacts the
 * attempt stored, which the workflow keeps in its memo.
 */
export interface ExecuteJobResult {
  output: unknown;
  artifacts: Artifact[];
}

/** What the worker puts in every heartbeat; the API reads it from the pending activity. */
export interface HeartbeatDetails {
  progress: Progress | null;
  /** The newest lines of the handler's `ctx.log`, at most `HEARTBEAT_LOG_LINES`. */
  log: string[];
  /**
   * The handler's last `ctx.checkpoint(value)`, carried from attempt to attempt: Temporal hands the last details
   * of an attempt to the next one. Absent until the job has checkpointed once.
   */
  checkpoint?: unknown;
  /** Files stored with `ctx.artifact` so far (carried from attempt to attempt, like the checkpoint). */
  artifacts?: Artifact[];
}

/** Largest checkpoint, as JSON bytes: it travels in every heartbeat, so it must stay small. */
export const MAX_CHECKPOINT_BYTES = 256 * 1024;

/** Sent by the worker when an attempt failed and will be retried, so the job lists as IN_QUEUE meanwhile. */
export interface AttemptFailed {
  attempt: number;
}

export const HEARTBEAT_LOG_LINES = 20;

/** Details on the ApplicationFailure a failed job ends with, for the error view. */
export interface JobFailureDetails {
  retryable: boolean;
  workerId: string | null;
}

/** Failure types the workflow gives a job's end when the handler did not throw (timeouts, a lost worker). */
export const FailureTypes = {
  validation: 'ValidationError',
  executionTimeout: 'ExecutionTimeout',
  ttlExpired: 'TtlExpired',
  workerLost: 'WorkerLost',
  workerShutdown: 'WorkerShutdown',
  unknownJobType: 'UnknownJobType',
} as const;

/** Failure types that end a job TIMED_OUT rather than FAILED. */
export const TIMEOUT_FAILURE_TYPES: ReadonlySet<string> = new Set([
  FailureTypes.executionTimeout,
  FailureTypes.ttlExpired,
]);

/** Chunks a streaming handler yielded, sent by its worker to the job's workflow in one signal. */
export interface StreamBatch {
  /** The attempt that yielded them: a retried attempt streams again from its start. */
  attempt: number;
  chunks: unknown[];
}

/**
 * How chunks travel through Temporal. Each batch is one signal (one history event plus a workflow task), so the
 * worker sends at most one every `flushIntervalMs` (sooner only when `maxBatchBytes` fill up). A run may take at
 * most 10,000 signals and 50 MiB of history, whatever its attempts do, so each attempt streams live within a share
 * of a run budget: attempt n gets `maxBatchesPerRun / 2^n` batches and `maxBytesPerRun / 2^n` bytes (half for the
 * first, a quarter for the second, ...), which sums below the budget for any number of retries. Chunks past an
 * attempt's share still count for an aggregated output.
 */
export const STREAM_LIMITS: Readonly<StreamLimits> = {
  flushIntervalMs: 250,
  maxBatchBytes: 256 * 1024,
  maxChunkBytes: 256 * 1024,
  maxBatchesPerRun: 8000,
  maxBytesPerRun: 40 * 1024 * 1024,
};

export interface StreamLimits {
  flushIntervalMs: number;
  maxBatchBytes: number;
  maxChunkBytes: number;
  maxBatchesPerRun: number;
  maxBytesPerRun: number;
}
