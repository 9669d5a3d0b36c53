import type { z } from 'zod';
import type { JobContext } from './define-job.js';

/** How a worker groups concurrent attempts of one job type into one handler call. */
export interface BatchOptions {
  /**
   * Most items per handler call: `1..1024`. A worker's `capacity` (its slots for this type) must be at least this,
   * or no batch could ever fill; twice this lets the next batch fill while one runs.
   */
  maxSize: number;
  /**
   * How long the first item of a batch waits for more before the handler runs with what there is, ms: `0..60000`.
   * A lone job starts this much later than it would unbatched.
   */
  maxWaitMs: number;
}

/**
 * What a batch handler returns for one item: its output, or an `Error` (usually a `JobError`) that fails that
 * item alone, exactly as if an unbatched handler had thrown it (`JobError({ retryable: false })` is not retried).
 */
export type BatchItemResult<Output> = Output | Error;

/** What a batch handler gets besides its inputs. */
export interface BatchContext<Resources = unknown> {
  readonly workerId: string;
  /** What `setup` returned: loaded once per worker process and shared by every batch. */
  readonly resources: Resources;
  /**
   * One job context per input, in the same order: each item's own `jobId`, `attempt`, `signal`, `progress`, `log`,
   * `checkpoint`, `resumeFrom` and `artifact`, reported on that job's own lease.
   */
  readonly items: readonly JobContext<Resources>[];
  /**
   * Aborts once every item's signal has aborted (all cancelled, timed out or drained): stop the batch. An item
   * cancelled alone ends cancelled at once; whatever the handler returns for it is dropped.
   */
  readonly signal: AbortSignal;
}

export interface BatchJobDefinitionOptions<Schema extends z.ZodType, Output, Resources> {
  /** The job type: `^[a-z][a-z0-9-]{0,62}$`. Workers poll the task queue `jobs.<type>`. */
  type: string;
  /** Parsed for each item before it joins a batch; an input that fails it fails that job alone, not retried. */
  input: Schema;
  /** Runs once per worker process before it takes jobs (model loading, the cold start). */
  setup?(): Resources | Promise<Resources>;
  /** Collect up to `maxSize` concurrent attempts of this type for at most `maxWaitMs`, then call `handler` once. */
  batch: BatchOptions;
  /**
   * Runs one batch: returns one result per input, in the inputs' order (an output, or an `Error` for that item).
   * A throw fails every item of the batch, each under its own retry policy. Batch handlers do not stream.
   */
  // Method syntax on purpose: any job definition must be assignable to the registry's JobDefinition.
  handler(
    inputs: z.output<Schema>[],
    ctx: BatchContext<Resources>,
  ): readonly BatchItemResult<Output>[] | Promise<readonly BatchItemResult<Output>[]>;
}

export const MAX_BATCH_SIZE = 1024;
export const MAX_BATCH_WAIT_MS = 60_000;

/** Why `batch` is not a usable setting, or `undefined` when it is. */
export function batchOptionsProblem(batch: unknown): string | undefined {
  if (typeof batch !== 'object' || batch === null) return 'batch must be { maxSize, maxWaitMs }';
  const { maxSize, maxWaitMs } = batch as Partial<BatchOptions>;
  if (typeof maxSize !== 'number' || !Number.isInteger(maxSize) || maxSize < 1 || maxSize > MAX_BATCH_SIZE) {
    return `batch.maxSize must be an integer from 1 to ${MAX_BATCH_SIZE}`;
  }
  if (typeof maxWaitMs !== 'number' || !Number.isFinite(maxWaitMs) || maxWaitMs < 0 || maxWaitMs > MAX_BATCH_WAIT_MS) {
    return `batch.maxWaitMs must be a number of ms from 0 to ${MAX_BATCH_WAIT_MS}`;
  }
  return undefined;
}
