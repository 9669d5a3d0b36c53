import { z } from 'zod';
import { AttemptFactsSchema } from '../protocol/activity.js';
import { ArtifactSchema, type BlobStoreMarker } from '../protocol/blobs.js';
import { ProgressSchema } from '../protocol/heartbeat.js';
import { JobErrorViewSchema, type JobPolicy } from './job.js';

/** Argument of the `runJob` workflow. Stored in history, so it stays small and JSON-only. */
export interface RunJobInput {
  jobId: string;
  type: string;
  input: unknown;
  policy: JobPolicy;
  /** Where the job's view is POSTed when this run ends (`SubmitJob.webhook`). */
  webhook?: string;
  /** `submissionHashOf` the submission, for a job under an idempotency key; a retry passes it on. */
  submissionHash?: string;
  /** The tenant the job belongs to (set as its `Tenant` search attribute); absent: the default tenant. */
  tenant?: string;
  /** The API's blob store marker, passed to every attempt so that a worker with another store says so. */
  blobStore?: BlobStoreMarker;
}

/**
 * Memo of a job's workflow: what the API needs for the view of a finished job without a worker, and for listings
 * (which read visibility records only, never a workflow's result). Read with `safeParse`: a field that does not fit
 * is dropped, not trusted.
 */
export const JobMemoSchema = AttemptFactsSchema.partial().extend({
  /** Set at start from `RunJobInput.submissionHash`: what an idempotency key was first used for. */
  submissionHash: z.string().optional(),
  /** Set at start: a random token of the request that started this run (tells a racer whether it started it). */
  startToken: z.string().optional(),
  /** Set when the job ends FAILED or TIMED_OUT. */
  error: JobErrorViewSchema.optional(),
  /** Set when the job ends with artifacts: the list outlives the pending activity's heartbeat details. */
  artifacts: z.array(ArtifactSchema).optional(),
  /** Set when the job ends CANCELLED: the last progress its attempt reported (the heartbeat that held it is gone). */
  progress: ProgressSchema.nullable().optional(),
  /** ms the handler of the last attempt ran, as its worker measured it. */
  handlerTimeMs: z.number().min(0).optional(),
  /**
   * Set when the job was scheduled again after a drain: attempts that ran before the current activity, so that
   * the pending activity's own attempt number plus this is the job's attempt.
   */
  attemptOffset: z.number().int().min(0).optional(),
});
export type JobMemo = z.output<typeof JobMemoSchema>;
