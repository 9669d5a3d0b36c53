import { z } from 'zod';
import { JobLogLineSchema } from '../protocol/logs.js';

/** `GET /v1/jobs/:id/logs?after=<n>`: the lines after the first `after`, across the job's attempts in order. */
export const JobLogsQuerySchema = z.object({
  /** How many lines the caller already has. @defaultValue 0 */
  after: z.coerce.number().int().min(0).default(0),
});

export const JobLogsResponseSchema = z.object({
  lines: z.array(JobLogLineSchema),
  /** The `after` of the next call: the lines the caller has after this page. */
  next: z.number().int().min(0),
  /** The job is final and its last attempt's log is written: no line will follow. */
  done: z.boolean(),
});
export type JobLogsResponse = z.output<typeof JobLogsResponseSchema>;
