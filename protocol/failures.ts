import { z } from 'zod';
import { AttemptFactsSchema } from './activity.js';
import { ArtifactSchema } from './blobs.js';
import { ProgressSchema } from './heartbeat.js';

/**
 * Failure types with a meaning of their own. A worker ends a failed attempt with an ApplicationFailure whose
 * `type` is one of the worker-side types below or the name of what the handler threw (`JobError`, `TypeError`,
 * ...); the workflow gives the job's end one of the others when no handler failed (timeouts, a lost worker).
 */
export const FailureTypes = {
  /** Worker: the input failed the job type's schema. Non-retryable. */
  validation: 'ValidationError',
  /** Worker: this worker does not serve the job's type. Non-retryable. */
  unknownJobType: 'UnknownJobType',
  /**
   * Worker: a drain ran out of grace before the handler stopped. Not retried by the activity's retry policy: the
   * workflow schedules the job again itself, without counting the attempt, resumed from the details' checkpoint.
   */
  workerShutdown: 'WorkerShutdown',
  /** Worker: the input is a blob reference that the blob store cannot give back intact. Non-retryable. */
  inputUnavailable: 'InputUnavailable',
  /** Worker: its blob store does not hold the API's store marker: the two use different stores. Non-retryable. */
  blobStoreMismatch: 'BlobStoreMismatch',
  /** Worker: a streaming handler yielded a chunk over `STREAM_LIMITS.maxChunkBytes`. Non-retryable. */
  streamChunkTooLarge: 'StreamChunkTooLarge',
  /**
   * Gateway: a RunPod worker's result carried a truthy `error` (the handler returned one, or raised). The message is
   * that `error` when it was a string (else see `runPodErrorValue`). Non-retryable, as on RunPod.
   */
  runPodError: 'RunPodError',
  /** Gateway: a RunPod worker's `error` that was not a string; the message is its JSON text. Non-retryable. */
  runPodErrorValue: 'RunPodErrorValue',
  /** Gateway: the runner that asked for the task went away before it arrived, and no other came. Retryable. */
  noRunner: 'NoRunner',
  /** Workflow: the worker completed with a result that does not fit `ExecuteJobResultSchema`. */
  malformedResult: 'MalformedResult',
  /** Workflow: the last attempt ran past `executionTimeoutMs`. */
  executionTimeout: 'ExecutionTimeout',
  /** Workflow: the job did not finish within `ttlMs`. */
  ttlExpired: 'TtlExpired',
  /** Workflow: the worker sent no heartbeat for `heartbeatTimeoutMs`. */
  workerLost: 'WorkerLost',
} as const;

/** Failure types the workflow never retries, whatever the failure's own `nonRetryable` says. */
export const NON_RETRYABLE_FAILURE_TYPES: readonly string[] = [FailureTypes.validation, FailureTypes.unknownJobType];

/** Failure types that end a job TIMED_OUT rather than FAILED. */
export const TIMEOUT_FAILURE_TYPES: ReadonlySet<string> = new Set([
  FailureTypes.executionTimeout,
  FailureTypes.ttlExpired,
]);

/**
 * The first detail of a worker's ApplicationFailure or of its cancellation (optional): the artifacts the attempt
 * stored, so that a job that does not complete keeps its files listed. A `WorkerShutdown` failure also carries the
 * attempt's number and its last checkpoint, so that the job goes on from there.
 */
export const AttemptFailureDetailsSchema = z.object({
  artifacts: z.array(ArtifactSchema).optional(),
  /** The job attempt that ended (`ctx.attempt`: the activity's attempt plus the resume offset). */
  attempt: z.number().int().min(1).optional(),
  /** The attempt's last checkpoint (the previous attempt's if it made none); absent when there is none. */
  checkpoint: z.unknown().optional(),
  /** The facts of the attempt that ended (optional): the view of a job that did not complete names its last attempt. */
  attemptFacts: AttemptFactsSchema.optional(),
  /**
   * The attempt's last progress, as its heartbeats reported it (optional): a cancelled job's view keeps showing how
   * far it got once the pending activity, which held it, is gone.
   */
  progress: ProgressSchema.nullable().optional(),
});
export type AttemptFailureDetails = z.output<typeof AttemptFailureDetailsSchema>;

/** The first detail of the ApplicationFailure a failed job's workflow ends with, for the error view. */
export const JobFailureDetailsSchema = z.object({
  retryable: z.boolean(),
  workerId: z.string().nullable(),
});
export type JobFailureDetails = z.output<typeof JobFailureDetailsSchema>;
