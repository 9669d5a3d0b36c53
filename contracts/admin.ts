import { z } from 'zod';
import { TenantNameSchema } from './tenant.js';
import { JobTypeSchema, JobViewSchema } from './job.js';
import { JOB_STATUSES, JobStatusSchema, type JobStatus } from './status.js';

/** Query of `GET /v1/jobs`. */
export const ListJobsQuerySchema = z.strictObject({
  status: JobStatusSchema.optional(),
  type: JobTypeSchema.optional(),
  /**
   * Jobs per page, 1 .. 100.
   * @defaultValue 20
   */
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** `nextCursor` of the previous page (opaque, base64url). */
  cursor: z
    .string()
    .max(4096)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be the nextCursor of an earlier answer')
    .optional(),
  /** Admin keys only: one tenant's jobs (others always see their own tenant's alone). @defaultValue every tenant */
  tenant: TenantNameSchema.optional(),
});
export type ListJobsQuery = z.output<typeof ListJobsQuerySchema>;

/** `GET /v1/stats`: admin keys may ask for one tenant's counts. */
export const StatsQuerySchema = z.strictObject({ tenant: TenantNameSchema.optional() });

/** `GET /v1/jobs`: views built from visibility records alone, so without `output` or `progress`. */
export const JobListSchema = z.object({
  jobs: z.array(JobViewSchema),
  /** Pass as `cursor` for the next page; null on the last one. A full page may be followed by an empty one. */
  nextCursor: z.string().nullable(),
});
export type JobList = z.output<typeof JobListSchema>;

/** A count for every status, zeros included. */
export const StatusCountsSchema = z.object(
  Object.fromEntries(JOB_STATUSES.map((status) => [status, z.number().int().min(0)])) as Record<JobStatus, z.ZodNumber>,
);
export type StatusCounts = z.output<typeof StatusCountsSchema>;

/** `GET /v1/stats`: jobs by status, overall and per job type (types that have jobs). */
export const StatsSchema = z.object({
  byStatus: StatusCountsSchema,
  byType: z.record(z.string(), StatusCountsSchema),
});
export type Stats = z.output<typeof StatsSchema>;

export const JobQueueSchema = z.object({
  type: z.string(),
  taskQueue: z.string(),
  /** Jobs waiting for a worker (approximate: Temporal counts asynchronously and caches for about 5 s). */
  backlogCount: z.number().int().min(0),
  /** Age of the oldest waiting job, ms. */
  backlogAgeMs: z.number().min(0),
  /** Workers that polled the queue lately (Temporal keeps a poller for a few minutes after its last poll). */
  workers: z.array(z.object({ identity: z.string(), lastSeenAt: z.iso.datetime().nullable() })),
  /** Set while the type is paused: its jobs stay IN_QUEUE, running ones finish, no worker gets a new one. */
  paused: z.object({ reason: z.string(), since: z.iso.datetime().nullable() }).nullable(),
  /**
   * HTTP runners (unmodified RunPod workers) of this type that the API's worker gateway sees, on the replica that
   * answers: `running` hold a job, `idle` wait for one. None without the gateway; the gateway's own Temporal worker
   * is among `workers`.
   */
  runners: z.object({
    idle: z.number().int().min(0),
    running: z.number().int().min(0),
    list: z.array(
      z.object({
        /** `RUNPOD_POD_ID` of the runner. */
        worker: z.string(),
        types: z.array(z.string()),
        lastSeenAt: z.iso.datetime(),
        /** Jobs it holds now. */
        jobs: z.number().int().min(0),
      }),
    ),
  }),
});
export type JobQueue = z.output<typeof JobQueueSchema>;

/** `GET /v1/queues`: every job type that has jobs, workers or a backlog. */
export const QueuesSchema = z.object({ queues: z.array(JobQueueSchema) });
export type Queues = z.output<typeof QueuesSchema>;

/** `POST /v1/queues/:type/pause` and `.../resume`. */
export const QueueTypeParamsSchema = z.object({ type: JobTypeSchema });
export const PauseBodySchema = z.object({ reason: z.string().max(200).optional() }).optional();
