import { z } from 'zod';
import type { Progress } from '../protocol/heartbeat.js';
import { JobTypeSchema, type JobView } from './job.js';
import type { JobStatus } from './status.js';

/** Runpack's five job statuses. */
export const RUNPACK_STATUSES = ['pending', 'claimed', 'in_progress', 'completed', 'failed'] as const;
export type RunpackStatus = (typeof RUNPACK_STATUSES)[number];

/**
 * Runpack spells job types with `_` (`example_task`), gpuflow with `-` (task queue names): both spellings name
 * the same gpuflow type. Invalid either way: undefined.
 */
export function gpuflowTypeOf(runpackType: string): string | undefined {
  const type = runpackType.replaceAll('_', '-');
  return JobTypeSchema.safeParse(type).success ? type : undefined;
}

export function runpackTypeOf(gpuflowType: string): string {
  return gpuflowType.replaceAll('-', '_');
}

/** `POST /api/jobs/check` and `/api/jobs/submit`. */
export const RunpackJobRequestSchema = z.object({
  job_type: z.string().min(1).max(63),
  input_params: z.unknown().default({}),
});

export const RunpackRegisterSchema = z.object({
  name: z.string().min(1).max(256),
  capabilities: z.array(z.string().min(1).max(63)).max(100).default([]),
});

export const RunpackHeartbeatSchema = z.object({
  progress_current: z.number().finite().min(0).optional(),
  progress_total: z.number().finite().min(0).optional(),
  console_output: z.string().optional(),
});

export const RunpackCompleteSchema = z.object({
  output_data: z.unknown().optional(),
  console_output: z.string().optional(),
});

export const RunpackErrorSchema = z.object({
  error_message: z.string().max(32_768).default('the runner reported an error'),
  console_output: z.string().optional(),
});

export const RunpackAdminJobsQuerySchema = z.object({
  status: z.enum(RUNPACK_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

/** The gpuflow statuses a Runpack status filter reads. */
export const GPUFLOW_STATUSES_OF: Record<RunpackStatus, readonly JobStatus[]> = {
  pending: ['IN_QUEUE'],
  claimed: ['IN_PROGRESS'],
  in_progress: ['IN_PROGRESS'],
  completed: ['COMPLETED'],
  failed: ['FAILED', 'CANCELLED', 'TIMED_OUT'],
};

/**
 * gpuflow's six statuses in Runpack's five: IN_QUEUE (also between two attempts) is `pending`; IN_PROGRESS is
 * `claimed` until the job reports progress (a Runpack runner's first heartbeat) and `in_progress` after;
 * CANCELLED and TIMED_OUT are `failed`, their error saying which.
 */
export function runpackStatusOf(view: Pick<JobView, 'status' | 'progress'>): RunpackStatus {
  switch (view.status) {
    case 'IN_QUEUE':
      return 'pending';
    case 'IN_PROGRESS':
      return view.progress === null ? 'claimed' : 'in_progress';
    case 'COMPLETED':
      return 'completed';
    default:
      return 'failed';
  }
}

/** The `error_message` of an ended job that did not complete (null otherwise). */
export function runpackErrorOf(view: Pick<JobView, 'status' | 'error'>): string | null {
  const message = view.error?.message;
  if (view.status === 'CANCELLED') return message ? `cancelled: ${message}` : 'cancelled';
  if (view.status === 'TIMED_OUT') return `timed out${message ? `: ${message}` : ''}`;
  if (view.status === 'FAILED') return message ?? 'failed';
  return null;
}

/** Runpack's progress pair in gpuflow's progress: `percent` from the pair, `message` the pair as `current/total`. */
export function progressOf(
  current: number | undefined,
  total: number | undefined,
  previous: Progress | null,
): Progress {
  if (current === undefined) return previous ?? { percent: 0, message: null };
  const percent = total ? Math.round(Math.min(100, (current / total) * 100) * 100) / 100 : (previous?.percent ?? 0);
  return { percent, message: total !== undefined ? `${current}/${total}` : `${current}` };
}

/** The pair back from a progress (`current/total` as sent, else the percent out of 100). */
export function progressPairOf(progress: Progress | null): { progress_current: number; progress_total: number } | null {
  if (!progress) return null;
  const pair = /^(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(progress.message ?? '');
  if (pair) return { progress_current: Number(pair[1]), progress_total: Number(pair[2]) };
  return { progress_current: progress.percent, progress_total: 100 };
}

/** A job as Runpack's job routes answer it. */
export function runpackJobOf(view: JobView, jobType: string, consoleOutput?: string): Record<string, unknown> {
  const status = runpackStatusOf(view);
  return {
    job_id: view.id,
    job_type: jobType,
    status,
    ...(status === 'completed' ? { output_data: view.output ?? null } : {}),
    ...(status === 'failed' ? { error_message: runpackErrorOf(view) } : {}),
    ...(progressPairOf(view.progress) ?? {}),
    runner_id: view.workerId,
    attempts: view.attempt,
    created_at: view.createdAt,
    started_at: view.startedAt,
    completed_at: view.completedAt,
    ...(consoleOutput !== undefined ? { console_output: consoleOutput } : {}),
  };
}
