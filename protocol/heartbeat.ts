import { z } from 'zod';
import { AttemptFactsSchema } from './activity.js';
import { ArtifactSchema, MAX_ARTIFACTS_PER_JOB } from './blobs.js';
import { HEARTBEAT_LOG_LINES, MAX_LOG_LINE_CHARS, MAX_PROGRESS_MESSAGE_CHARS } from './heartbeat-limits.js';

export * from './heartbeat-limits.js';

/** A job's progress as its handler reported it: `percent` 0..100, a message or `null`. */
export const ProgressSchema = z.object({
  percent: z.number().min(0).max(100),
  message: z.string().max(MAX_PROGRESS_MESSAGE_CHARS).nullable(),
});
export type Progress = z.output<typeof ProgressSchema>;

/**
 * The details of every heartbeat of an attempt (one JSON object, the heartbeat's only argument). Temporal keeps
 * the last one on the pending activity, where the API reads progress and artifacts, and hands it to the next
 * attempt, which carries `checkpoint` and `artifacts` forward.
 */
export const HeartbeatDetailsSchema = z.object({
  progress: ProgressSchema.nullable(),
  /** The newest lines of the handler's log, at most `HEARTBEAT_LOG_LINES`, each at most `MAX_LOG_LINE_CHARS`. */
  log: z.array(z.string().max(MAX_LOG_LINE_CHARS)).max(HEARTBEAT_LOG_LINES),
  /** The handler's last checkpoint (any JSON, at most `MAX_CHECKPOINT_BYTES`); absent until it checkpointed. */
  checkpoint: z.unknown().optional(),
  /** Files stored so far, carried from attempt to attempt like the checkpoint. */
  artifacts: z.array(ArtifactSchema).max(MAX_ARTIFACTS_PER_JOB).optional(),
  /**
   * The worker that runs the attempt, when it is not the Temporal identity that took the task (a runner behind the
   * gateway). Absent: the pending activity's `lastWorkerIdentity` names it.
   */
  workerId: z.string().min(1).max(256).optional(),
  /**
   * The facts of the attempt that sent it (optional): a job waiting for a retry after a lost worker names the attempt
   * that was lost, its worker and its start, from the last heartbeat the pending activity keeps.
   */
  attemptFacts: AttemptFactsSchema.optional(),
});
export type HeartbeatDetails = z.output<typeof HeartbeatDetailsSchema>;
