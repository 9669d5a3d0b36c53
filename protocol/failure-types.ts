// No zod here: the workflow bundle imports this module (readers.ts says why the workflow stays free of zod).

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
