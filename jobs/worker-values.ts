import { z } from 'zod';
import { JobMemoSchema, type JobMemo } from '../contracts/run-job.js';
import { JobFailureDetailsSchema, type JobFailureDetails } from '../protocol/failures.js';
import { HeartbeatDetailsSchema, type HeartbeatDetails } from '../protocol/heartbeat.js';
import { StreamBatchSchema, type StreamBatch } from '../protocol/stream.js';

/** Where a malformed value is reported: `(message, facts)`. @defaultValue `console.warn` */
export type WarnLog = (message: string, facts: Record<string, unknown>) => void;

/** Distinct (job, field) pairs remembered as already reported; past this the oldest is forgotten. */
const MAX_REPORTED = 1000;

/**
 * Reads what workers produced (directly, or through the workflow that copied it): the memo, heartbeat details,
 * failure details, stream batches. Workers come in any language, so every value is `safeParse`d field by field: a
 * field that does not fit is dropped (the view degrades, say to no progress) while its siblings still count, and it
 * is reported once per job and field, never thrown.
 */
export class WorkerValues {
  private readonly reported = new Set<string>();

  constructor(private readonly warn: WarnLog = (message, facts) => console.warn(message, facts)) {}

  memo(jobId: string, raw: unknown): JobMemo {
    return this.fields(jobId, 'memo', JobMemoSchema.shape, raw ?? {}) ?? {};
  }

  /** The pending attempt's last heartbeat; `undefined` when there is none or it is no object at all. */
  heartbeat(jobId: string, raw: unknown): Partial<HeartbeatDetails> | undefined {
    if (raw === undefined) return undefined;
    return this.fields(jobId, 'heartbeat', HeartbeatDetailsSchema.shape, raw);
  }

  /** The first detail of a failed job's ApplicationFailure. */
  failureDetails(jobId: string, raw: unknown): Partial<JobFailureDetails> {
    if (raw === undefined) return {};
    return this.fields(jobId, 'failure.details', JobFailureDetailsSchema.shape, raw) ?? {};
  }

  /** A `streamChunks` batch read back from history; `undefined` (the batch is skipped) when it does not fit. */
  streamBatch(jobId: string, raw: unknown): StreamBatch | undefined {
    const parsed = StreamBatchSchema.safeParse(raw);
    if (parsed.success) return parsed.data;
    this.report(jobId, 'streamChunks', parsed.error);
    return undefined;
  }

  /** Reports a value that could not be used at all (say a payload that does not decode). */
  unreadable(jobId: string, field: string, err: unknown): void {
    this.report(jobId, field, err);
  }

  private fields<Shape extends z.ZodRawShape>(
    jobId: string,
    what: string,
    shape: Shape,
    raw: unknown,
  ): Partial<{ [K in keyof Shape]: z.output<Shape[K]> }> | undefined {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      this.report(jobId, what, `expected an object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
      return undefined;
    }
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      const schema = shape[key];
      // Unknown fields (a newer worker's) are ignored, not reported.
      if (!schema) continue;
      const parsed = z.safeParse(schema, value);
      if (parsed.success) {
        if (parsed.data !== undefined) out[key] = parsed.data;
      } else this.report(jobId, `${what}.${key}`, parsed.error);
    }
    return out as Partial<{ [K in keyof Shape]: z.output<Shape[K]> }>;
  }

  private report(jobId: string, field: string, problem: unknown): void {
    const id = `${jobId}\u0000${field}`;
    if (this.reported.has(id)) return;
    this.reported.add(id);
    if (this.reported.size > MAX_REPORTED) this.reported.delete(this.reported.values().next().value!);
    const issue =
      problem instanceof Error && 'issues' in problem
        ? (problem as z.ZodError).issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ')
        : problem instanceof Error
          ? problem.message
          : String(problem);
    this.warn('a worker-produced value does not fit the protocol; the job view leaves it out', { jobId, field, issue });
  }
}
