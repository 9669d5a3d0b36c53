import { z } from 'zod';
import { MAX_LOG_LINE_CHARS } from './heartbeat.js';

/**
 * A job's console output (`ctx.log` lines, a runner's console output, a failed attempt's stack trace) is kept in the
 * job's blob store beside its artifacts, one JSON Lines blob per attempt, never in Temporal: see PROTOCOL.md, "Job
 * logs". Every writer (TS worker, Python worker, the gateway for HTTP runners) follows this layout.
 */

/** Content type of a job log blob. */
export const JOB_LOG_CONTENT_TYPE = 'application/x-ndjson';

/**
 * Largest log blob of one attempt, bytes; past it the writer keeps the first and the newest lines and one line
 * saying how many it dropped between them (`GPUFLOW_MAX_JOB_LOG_BYTES`).
 * @defaultValue 1048576 (1 MiB)
 */
export const MAX_JOB_LOG_BYTES = 1024 * 1024;

/** The smallest bound a writer accepts: a few lines and the "dropped" line always fit. */
export const MIN_JOB_LOG_BYTES = 4 * 1024;

/** One line of a job's log, one JSON object per line of the blob. */
export const JobLogLineSchema = z.object({
  /** The job's attempt as the user sees it: 1-based, counting on across drains. */
  attempt: z.number().int().min(1),
  /** When the line was written: ISO-8601, UTC. */
  at: z.string(),
  /** The text, at most `MAX_LOG_LINE_CHARS` characters, without a newline. */
  line: z.string().max(MAX_LOG_LINE_CHARS),
});
export type JobLogLine = z.output<typeof JobLogLineSchema>;

/** Blob store key of the log of a job's attempt. The store cannot list: a reader takes the attempts from the view. */
export function jobLogKey(jobId: string, attempt: number): string {
  return `logs/${jobId}/${attempt}.jsonl`;
}

/** The text of the line a writer puts where it dropped lines over the bound. */
export function droppedLinesText(dropped: number, maxBytes: number): string {
  return `… ${dropped} lines dropped (log over ${maxBytes} bytes)`;
}
