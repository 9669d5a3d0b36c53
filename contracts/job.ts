import { z } from 'zod';
import { ArtifactViewSchema } from '../protocol/blobs.js';
import { JobStatusSchema } from './status.js';
import { ProgressSchema } from '../protocol/heartbeat.js';

export { ProgressSchema, type Progress } from '../protocol/heartbeat.js';

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;

/**
 * Any JSON value. It is recursive, so the OpenAPI document can only describe it by reference: registered under an id,
 * it is emitted once as `components.schemas.JsonValue` (unregistered, its references pointed at nothing).
 */
export const JsonValueSchema = z.json();
// `add`, not `.meta()`: meta registers a copy, and the value's recursion would still point at the unregistered one.
z.globalRegistry.add(JsonValueSchema, { id: 'JsonValue', description: 'Any JSON value' });

/** A job type names a task queue (`jobs.<type>`) and starts every id of its jobs. */
export const JobTypeSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must start with a-z and hold only a-z, 0-9 and "-" (at most 63 characters)');

/**
 * The path to the first number that is not finite inside a parsed JSON value, if any. Iterative: the API bounds a
 * body's depth before parsing, but other callers parse this schema too, and recursion is where depth hurts.
 */
function nonFinitePath(root: unknown): (string | number)[] | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: root, path: [] }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value, path } = next;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return path;
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    // Pushed in reverse, so the first bad number in document order is found first.
    const entries: [string, unknown][] = Object.entries(value as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i]!;
      stack.push({ value: item, path: [...path, Array.isArray(value) ? Number(key) : key] });
    }
  }
  return undefined;
}

/** Per-job policy. Every field is optional on submit; defaults are filled in at the edge. */
export const JobPolicySchema = z.strictObject({
  /**
   * Run time of one attempt, in ms. An attempt past it is stopped and retried; the last one ends TIMED_OUT.
   * @defaultValue 600000 (10 min)
   */
  executionTimeoutMs: z
    .number()
    .int()
    .min(SECOND_MS)
    .max(7 * DAY_MS)
    .default(600_000),
  /**
   * The job's whole life in ms, queue time and retries included.
   * @defaultValue 86400000 (24 h)
   */
  ttlMs: z
    .number()
    .int()
    .min(SECOND_MS)
    .max(30 * DAY_MS)
    .default(DAY_MS),
  /**
   * Attempts in all, the first included.
   * @defaultValue 3
   */
  maxAttempts: z.number().int().min(1).max(100).default(3),
  /**
   * The lease: a worker that has not heartbeated for this long is presumed dead and the attempt is retried
   * elsewhere. The worker heartbeats on its own timer whatever the handler does.
   * @defaultValue 30000
   */
  heartbeatTimeoutMs: z.number().int().min(SECOND_MS).max(600_000).default(30_000),
  /**
   * How fresh the running job's progress must be in its view, ms: the worker heartbeats changes at most this often
   * (each heartbeat is a billable action on Temporal Cloud), and a cancel reaches a handler that reports progress
   * within about this long. A job that reports nothing renews its lease three times per `heartbeatTimeoutMs`.
   * Absent: the worker's setting (`--progress-freshness`, 1 s by default).
   */
  progressFreshnessMs: z.number().int().min(100).max(600_000).optional(),
  /**
   * 1 is dispatched first, 5 last (Temporal task priority).
   * @defaultValue 3
   */
  priority: z.number().int().min(1).max(5).default(3),
});
export type JobPolicy = z.output<typeof JobPolicySchema>;

/** Body of `POST /v1/jobs` and `POST /v1/jobs/check`. */
export const SubmitJobSchema = z.strictObject({
  type: JobTypeSchema,
  /** Any JSON value (required; may be null); the job type's own schema checks it on the worker. */
  // The body is parsed JSON already, so its values are JSON but for two cases worth a plain message: a missing
  // input, and a number too large for a double (`1e999` parses to Infinity, which no JSON encoder writes back).
  input: z.unknown().superRefine((value, ctx) => {
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', message: 'required: any JSON value' });
      return;
    }
    const path = nonFinitePath(value);
    if (path) ctx.addIssue({ code: 'custom', path, message: 'numbers must be finite (this one overflows a double)' });
  }),
  policy: JobPolicySchema.prefault({}),
  /** Dedup on this key instead of on a hash of type + input. */
  idempotencyKey: z.string().min(1).max(256).optional(),
  /**
   * `false` makes a new job whatever was submitted before.
   * @defaultValue true
   */
  dedup: z.boolean().default(true),
  /**
   * POSTed the job's view, signed (Standard Webhooks), when the job ends. Not part of the job id: a deduplicated
   * submission keeps the webhook of the submission that started the run.
   */
  webhook: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .max(2048)
    .optional(),
});
export type SubmitJob = z.output<typeof SubmitJobSchema>;
export type SubmitJobBody = z.input<typeof SubmitJobSchema>;

export const JobErrorViewSchema = z.object({
  /** The error's class: `ValidationError`, `JobError`, the name of what the handler threw, ... */
  type: z.string(),
  message: z.string(),
  /** Whether this kind of error is retried (false for `JobError({ retryable: false })` and bad input). */
  retryable: z.boolean(),
  workerId: z.string().nullable(),
});
export type JobErrorView = z.output<typeof JobErrorViewSchema>;

/** What `GET /v1/jobs/:id` answers. Every field survives JSON. */
export const JobViewSchema = z.object({
  id: z.string(),
  type: z.string(),
  status: JobStatusSchema,
  /** Attempts started so far (0 while the first one waits in the queue). */
  attempt: z.number().int(),
  progress: ProgressSchema.nullable(),
  output: JsonValueSchema.optional(),
  error: JobErrorViewSchema.optional(),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  completedAt: z.iso.datetime().nullable(),
  /** Queue wait of the running or last attempt, ms. */
  delayTimeMs: z.number().nullable(),
  /** Run time of the last attempt once the job has ended, ms. */
  executionTimeMs: z.number().nullable(),
  workerId: z.string().nullable(),
  /** IN_QUEUE only, so that "no worker serves this type" shows at a glance. */
  queue: z
    .object({
      /** Workers that polled the job type's task queue in the last few minutes. */
      workers: z.number().int(),
      /**
       * Jobs of this type waiting for a worker, this one included (approximate: Temporal's figure is cached for a
       * few seconds).
       */
      backlogCount: z.number().int(),
      /** The job type is paused (`POST /v1/queues/:type/pause`): no worker gets a job of it until it resumes. */
      paused: z.boolean(),
    })
    .optional(),
  /** Files the handler stored with `ctx.artifact`, listed while it runs and after it ends (`[]` when none). */
  artifacts: z.array(ArtifactViewSchema),
  /** The job's page in the Temporal Web UI, when the API knows the UI's address (GPUFLOW_TEMPORAL_UI_URL). */
  temporalUiUrl: z.url().optional(),
});
export type JobView = z.output<typeof JobViewSchema>;

/** `?wait=<ms>` on submit and on a job's view: answer once the job has ended, or when the wait runs out. */
export const WaitQuerySchema = z.object({
  wait: z.coerce.number().int().min(0).max(300_000).optional(),
});

export const SubmitResponseSchema = JobViewSchema.extend({ deduplicated: z.boolean() });
export type SubmitResponse = z.output<typeof SubmitResponseSchema>;

export const CheckResponseSchema = z.union([
  z.object({ exists: z.literal(false) }),
  JobViewSchema.extend({ exists: z.literal(true) }),
]);
export type CheckResponse = z.output<typeof CheckResponseSchema>;

/**
 * One chunk a streaming handler yielded, numbered from 1 in the order it reached the job. A retried attempt streams
 * again from its start: its chunks follow the earlier attempt's, told apart by `attempt`.
 */
export const StreamChunkSchema = z.object({ seq: z.number().int(), attempt: z.number().int(), data: JsonValueSchema });
export type StreamChunk = z.output<typeof StreamChunkSchema>;

/** `GET /v1/jobs/:id/stream?after=<seq>`: JSON polling instead of Server-Sent Events. */
export const StreamQuerySchema = z.object({
  /** Chunks after this one (0: from the start). Without it, the stream is Server-Sent Events. */
  after: z.coerce.number().int().min(0).optional(),
});

export const StreamPollResponseSchema = z.object({
  chunks: z.array(StreamChunkSchema),
  status: JobStatusSchema,
  /** The job has ended: no chunk will follow. */
  done: z.boolean(),
});
