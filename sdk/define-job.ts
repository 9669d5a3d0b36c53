import type { z } from 'zod';
import type { Artifact } from '../protocol/blobs.js';
import { JobTypeSchema } from '../contracts/job.js';
import { describeIssues } from '../contracts/errors.js';
import { batchOptionsProblem, type BatchJobDefinitionOptions } from './batch.js';

const JOB_DEFINITION = Symbol.for('gpuflow.JobDefinition');

/** What a handler gets besides its input. */
export interface JobContext<Resources = unknown> {
  readonly jobId: string;
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number;
  readonly workerId: string;
  /** What `setup` returned: loaded once per worker process and shared by every job it runs. */
  readonly resources: Resources;
  /** Aborts when the job is cancelled, times out, loses its lease or the worker drains: stop promptly. */
  readonly signal: AbortSignal;
  /** Reports progress; shows in the job's view within about a second. `percent` is clamped to 0..100. */
  progress(percent: number, message?: string): void;
  /** A line of console output, printed by the worker with the job's id and kept with the job's lease. */
  log(...parts: unknown[]): void;
  /**
   * Saves how far the job got (any JSON, at most 256 KiB) with the lease. If this attempt fails, times out or
   * its worker dies, the next attempt, on any worker, starts with it as `resumeFrom`. Saved within about a second.
   */
  checkpoint(value: unknown): void;
  /** The last checkpoint of an earlier attempt of this job; `undefined` when there is none (the first attempt). */
  readonly resumeFrom: unknown;
  /**
   * Stores a file the job produced (an image, a mesh, a report). The job's view lists it as
   * `{ name, size, contentType, url }` while the job runs and after it ends; `GET /v1/jobs/:id/artifacts/:name`
   * serves it. `name`: `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`; storing a name again replaces the file.
   * @param contentType @defaultValue 'application/octet-stream'
   */
  artifact(name: string, data: Uint8Array | string, contentType?: string): Promise<Artifact>;
}

export interface JobDefinitionOptions<Schema extends z.ZodType, Output, Resources> {
  /** The job type: `^[a-z][a-z0-9-]{0,62}$`. Workers poll the task queue `jobs.<type>`. */
  type: string;
  /** Parsed before the handler runs; input that fails it fails the job at once, not retried. */
  input: Schema;
  /** Runs once per worker process before it takes jobs (model loading, the cold start). */
  setup?(): Resources | Promise<Resources>;
  /** Unbatched: one handler call per job. See `BatchJobDefinitionOptions` for a batch. */
  batch?: undefined;
  /**
   * For a streaming handler (`async function*`): make the job's `output` the array of every chunk it yielded,
   * instead of the generator's return value.
   * @defaultValue false
   */
  aggregateStream?: boolean;
  /**
   * Returns the job's output, or, as an `async function*`, streams: each `yield` is a chunk that reaches clients
   * while the job runs (`GET /v1/jobs/:id/stream`), and the return value is the output.
   */
  // Method syntax on purpose: any job definition must be assignable to the registry's JobDefinition.
  handler(
    input: z.output<Schema>,
    ctx: JobContext<Resources>,
  ): Output | Promise<Output> | AsyncGenerator<unknown, Output, undefined>;
}

interface Marked {
  readonly [JOB_DEFINITION]: true;
}

/** A job type whose handler runs once per job. */
export interface SingleJobDefinition<Schema extends z.ZodType = z.ZodType, Output = unknown, Resources = unknown>
  extends JobDefinitionOptions<Schema, Output, Resources>, Marked {}

/** A job type whose handler runs once per batch of jobs (`batch` is set). */
export interface BatchJobDefinition<Schema extends z.ZodType = z.ZodType, Output = unknown, Resources = unknown>
  extends BatchJobDefinitionOptions<Schema, Output, Resources>, Marked {}

/** What `defineJob` makes: `definition.batch` tells the two kinds apart. */
export type JobDefinition<Schema extends z.ZodType = z.ZodType, Output = unknown, Resources = unknown> =
  SingleJobDefinition<Schema, Output, Resources> | BatchJobDefinition<Schema, Output, Resources>;

/**
 * Declares a job type: its input schema, its once-per-process setup and its handler. With `batch`, the handler
 * takes an array of inputs and returns one result per input (see `BatchJobDefinitionOptions`).
 */
export function defineJob<Schema extends z.ZodType, Output, Resources = undefined>(
  options: BatchJobDefinitionOptions<Schema, Output, Resources>,
): BatchJobDefinition<Schema, Output, Resources>;
export function defineJob<Schema extends z.ZodType, Output, Resources = undefined>(
  options: JobDefinitionOptions<Schema, Output, Resources>,
): SingleJobDefinition<Schema, Output, Resources>;
/** Either kind, as a registry holds it (a copy of a definition under another type). */
export function defineJob(
  options: JobDefinitionOptions<z.ZodType, unknown, unknown> | BatchJobDefinitionOptions<z.ZodType, unknown, unknown>,
): JobDefinition;
export function defineJob(
  options: JobDefinitionOptions<z.ZodType, unknown, unknown> | BatchJobDefinitionOptions<z.ZodType, unknown, unknown>,
): JobDefinition {
  const type = JobTypeSchema.safeParse(options.type);
  if (!type.success) throw new TypeError(`defineJob: ${describeIssues(type.error.issues, 'type')}`);
  if (typeof options.input?.safeParse !== 'function') throw new TypeError('defineJob: input must be a zod schema');
  if (typeof options.handler !== 'function') throw new TypeError('defineJob: handler must be a function');
  if (options.batch !== undefined) {
    const problem = batchOptionsProblem(options.batch);
    if (problem) throw new TypeError(`defineJob: ${problem}`);
    if ((options as { aggregateStream?: unknown }).aggregateStream) {
      throw new TypeError('defineJob: a batch handler does not stream: aggregateStream does not apply');
    }
    return Object.freeze({ ...options, batch: Object.freeze({ ...options.batch }), [JOB_DEFINITION]: true as const });
  }
  return Object.freeze({ ...options, [JOB_DEFINITION]: true as const });
}

/** True for a definition made by `defineJob` from any copy of this module. */
export function isJobDefinition(value: unknown): value is JobDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB_DEFINITION] === true;
}
