import { z } from 'zod';
import { ArtifactSchema, BlobStoreMarkerSchema, MAX_ARTIFACTS_PER_JOB } from './blobs.js';

/**
 * The one activity every job worker registers, whatever its language. The workflow schedules it on the task queue
 * of the job's type (`jobTaskQueue(type)`), and a worker that serves that type runs one attempt of the job in it.
 */
export const EXECUTE_JOB_ACTIVITY = 'executeJob';

/** Protocol version a worker implements; bumped on any change a worker of the previous version would break on. */
export const PROTOCOL_VERSION = 1;

/**
 * Where a job scheduled again after a drain goes on from (section 10): the drained attempt's checkpoint and
 * artifacts, and how many attempts of the job ran before this scheduling. A worker reports attempt
 * `activity attempt + attemptOffset` everywhere (`ctx.attempt`, signals, attempt facts, blob keys), and gives the
 * first attempt of this scheduling `checkpoint` and `artifacts` as if they were the previous heartbeat's.
 */
export const ExecuteJobResumeSchema = z.object({
  /** Attempts of the job that ran before this scheduling (drained ones included). */
  attemptOffset: z.number().int().min(0),
  /** The drained attempt's last checkpoint; absent when it never checkpointed. */
  checkpoint: z.unknown().optional(),
  /** The artifacts stored so far. */
  artifacts: z.array(ArtifactSchema).max(MAX_ARTIFACTS_PER_JOB).optional(),
});
export type ExecuteJobResume = z.output<typeof ExecuteJobResumeSchema>;

/** Argument of the `executeJob` activity. `input` is any JSON value, or a blob reference when large. */
export const ExecuteJobInputSchema = z.object({
  jobId: z.string().min(1),
  type: z.string().min(1),
  input: z.unknown(),
  /** Present only when the job is scheduled again after a drain. */
  resume: ExecuteJobResumeSchema.optional(),
  /** The API's store marker (section 7): check it before the attempt's first blob. Absent: no check. */
  blobStore: BlobStoreMarkerSchema.optional(),
  /**
   * The job's `policy.progressFreshnessMs`: its changes are heartbeated at most this often (section 4). Absent: the
   * worker's own setting.
   */
  progressFreshnessMs: z.number().int().min(100).optional(),
});
export type ExecuteJobInput = z.output<typeof ExecuteJobInputSchema>;

/**
 * Facts of the attempt that ran, as the worker saw them: in the result, and in the details of a failure or
 * cancellation. Workers of protocol 1 before this also sent them in the `attemptStarted` signal while the attempt
 * ran; a running job's view now reads them from the pending activity instead.
 */
export const AttemptFactsSchema = z.object({
  /** 1 for the first attempt (Temporal's activity attempt). */
  attempt: z.number().int().min(1),
  /** The worker's identity, as it polls Temporal: `<hostname>-<pid>` unless set with `--identity`. */
  workerId: z.string().min(1).max(256),
  /** ISO-8601: when the attempt was scheduled (queued). */
  scheduledAt: z.iso.datetime(),
  /** ISO-8601: when the worker started the attempt. */
  startedAt: z.iso.datetime(),
});
export type AttemptFacts = z.output<typeof AttemptFactsSchema>;

/**
 * Result of the `executeJob` activity: the handler's output (a blob reference when large), the artifacts the job
 * has stored so far, and the facts of the attempt that produced it.
 */
export const ExecuteJobResultSchema = z.object({
  output: z.unknown(),
  artifacts: z.array(ArtifactSchema),
  /** Optional for workers of an earlier build; the workflow then keeps what their `attemptStarted` said. */
  attemptFacts: AttemptFactsSchema.optional(),
  /** ms the handler itself ran, from the input parsed to the output ready (optional). */
  handlerTimeMs: z.number().min(0).optional(),
});
export type ExecuteJobResult = z.output<typeof ExecuteJobResultSchema>;
