import { z } from 'zod';
import { AttemptFactsSchema } from './activity.js';
import { ArtifactSchema } from './blobs.js';
import { ProgressSchema } from './heartbeat.js';

export { FailureTypes, NON_RETRYABLE_FAILURE_TYPES, TIMEOUT_FAILURE_TYPES } from './failure-types.js';

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
