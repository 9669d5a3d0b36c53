import { z } from 'zod';
import { JobTypeSchema } from './job.js';

/**
 * What a worker does for one job type: how many of its jobs it runs at once (null: an HTTP runner, which does not
 * say), and how many it runs now.
 */
export const WorkerTypeSchema = z.object({
  type: JobTypeSchema,
  capacity: z.number().int().min(0).nullable(),
  running: z.number().int().min(0),
});

/**
 * One worker process in `GET /v1/workers`. `native`: a TypeScript or Python job worker (from Temporal's own worker
 * heartbeats); `gateway`: an API replica's RunPod gateway polling for its HTTP runners; `runner`: an HTTP runner
 * the gateway of the answering replica has seen (from its takes and pings).
 */
export const WorkerSchema = z.object({
  kind: z.enum(['native', 'gateway', 'runner']),
  /** The worker id shown in job views (`workerId`). */
  identity: z.string(),
  host: z.string().nullable(),
  pid: z.string().nullable(),
  types: z.array(WorkerTypeSchema),
  /** Sum over `types` (null for runners). */
  capacity: z.number().int().min(0).nullable(),
  jobsRunning: z.number().int().min(0),
  /** The Temporal SDK and its version (`temporal-typescript 1.24.0`, `temporal-python 1.35.0`), null for runners. */
  version: z.string().nullable(),
  startedAt: z.iso.datetime().nullable(),
  lastHeartbeatAt: z.iso.datetime(),
  /** Stopped polling for new jobs (SIGTERM or idle exit): its running jobs get their grace period. */
  draining: z.boolean(),
  /** No heartbeat for longer than `lostAfterMs`: killed, crashed or cut off. Still listed for a few minutes. */
  lost: z.boolean(),
});
export type WorkerEntry = z.output<typeof WorkerSchema>;

export const WorkersSchema = z.object({
  workers: z.array(WorkerSchema),
  /** A worker whose last heartbeat is older than this is `lost`, ms. */
  lostAfterMs: z.number().int(),
});
export type Workers = z.output<typeof WorkersSchema>;
