const JOB_ERROR = Symbol.for('gpuflow.JobError');

export interface JobErrorOptions {
  /**
   * Whether another attempt could succeed. A bad prompt will not; a flaky download might.
   * @defaultValue true
   */
  retryable?: boolean;
  /** The error's class as users see it in the job's `error.type`. @defaultValue 'JobError' */
  type?: string;
  cause?: unknown;
}

/** Thrown by a handler to fail its job with a message meant for the user who submitted it. */
export class JobError extends Error {
  readonly retryable: boolean;
  readonly type: string;
  readonly [JOB_ERROR] = true;

  constructor(message: string, options: JobErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'JobError';
    this.retryable = options.retryable ?? true;
    this.type = options.type ?? 'JobError';
  }
}

/** True for a JobError from any copy of this module (a job module may bring its own copy of gpuflow). */
export function isJobError(value: unknown): value is JobError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB_ERROR] === true;
}
