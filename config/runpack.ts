import { z } from 'zod';
import type { RateLimit } from './limits.js';

/** Runpack's per-operation budgets: each route of the Runpack face counts its own requests per key. */
export const RUNPACK_OPERATIONS = [
  'check',
  'submit',
  'status',
  'register',
  'available',
  'claim',
  'heartbeat',
  'complete',
  'error',
  'admin',
] as const;
export type RunpackOperation = (typeof RUNPACK_OPERATIONS)[number];
export type RunpackRateLimits = Readonly<Partial<Record<RunpackOperation, RateLimit>>>;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;
const LIMIT = /^(\d{1,9})\/(\d{1,6})?(s|m|h)$/;

/** `submit=60/1m,heartbeat=600/1m`: at most this many requests of the operation per key and window. */
const runpackRateLimits = z
  .string()
  .default('')
  .transform((raw, ctx): RunpackRateLimits => {
    const limits: Partial<Record<RunpackOperation, RateLimit>> = {};
    for (const entry of raw
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const [operation = '', spec = ''] = entry.split('=');
      const match = LIMIT.exec(spec);
      const max = Number(match?.[1]);
      const windowMs = Number(match?.[2] ?? 1) * UNIT_MS[(match?.[3] ?? 's') as keyof typeof UNIT_MS];
      if (!match || !(RUNPACK_OPERATIONS as readonly string[]).includes(operation) || max < 1 || windowMs < 1000) {
        ctx.addIssue({
          code: 'custom',
          message: `each entry must be <${RUNPACK_OPERATIONS.join('|')}>=<max>/<window>, a window such as 10s, 1m or 1h`,
        });
        return z.NEVER;
      }
      limits[operation as RunpackOperation] = { max, windowMs };
    }
    return limits;
  });

const bytes = (fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(1024 * 1024 * 1024)
    .default(fallback);

/**
 * The Runpack face's variables (spread into config/env.ts's schema). The three keys are Runpack's own names for
 * gpuflow keys of the matching roles, in the default tenant: `SUBMIT_API_KEY` a `submit` key, `RUNNER_API_KEY` a
 * `worker` key (it takes and finishes jobs, and reads the admin listings as Runpack allows), `ADMIN_API_KEY` an
 * `admin` key.
 */
export const runpackEnv = {
  SUBMIT_API_KEY: z.string().min(16).optional(),
  RUNNER_API_KEY: z.string().min(16).optional(),
  ADMIN_API_KEY: z.string().min(16).optional(),
  /** A Runpack runner silent this long loses its job, which goes to another runner under the job's policy, ms. */
  GPUFLOW_RUNPACK_HEARTBEAT_THRESHOLD_MS: z.coerce.number().int().min(1000).max(86_400_000).default(90_000),
  /** Per-operation budgets of the Runpack routes, per key; unlisted: the key's role or tenant budget. */
  GPUFLOW_RUNPACK_RATE_LIMITS: runpackRateLimits,
  /** Largest `input_params` JSON a Runpack submit or check may carry, bytes (larger: 413). */
  GPUFLOW_RUNPACK_MAX_INPUT_BYTES: bytes(1024 * 1024),
  /** Largest `output_data` JSON a Runpack runner may complete a job with, bytes (larger: 413). */
  GPUFLOW_RUNPACK_MAX_OUTPUT_BYTES: bytes(10 * 1024 * 1024),
  /** Largest `console_output` one Runpack heartbeat, complete or error may carry, bytes (larger: 413). */
  GPUFLOW_RUNPACK_MAX_CONSOLE_BYTES: bytes(256 * 1024),
};

export interface RunpackKeyEnv {
  SUBMIT_API_KEY?: string | undefined;
  RUNNER_API_KEY?: string | undefined;
  ADMIN_API_KEY?: string | undefined;
}

/** The Runpack keys as gpuflow keys of their roles (default tenant). */
export function runpackApiKeys(env: RunpackKeyEnv): { key: string; role: 'submit' | 'worker' | 'admin' }[] {
  const keys: { key: string; role: 'submit' | 'worker' | 'admin' }[] = [];
  if (env.SUBMIT_API_KEY) keys.push({ key: env.SUBMIT_API_KEY, role: 'submit' });
  if (env.RUNNER_API_KEY) keys.push({ key: env.RUNNER_API_KEY, role: 'worker' });
  if (env.ADMIN_API_KEY) keys.push({ key: env.ADMIN_API_KEY, role: 'admin' });
  return keys;
}

/** What the Runpack face is told of its limits and threshold. */
export interface RunpackSettings {
  heartbeatThresholdMs: number;
  rateLimits: RunpackRateLimits;
  maxInputBytes: number;
  maxOutputBytes: number;
  maxConsoleBytes: number;
  /** How long a job offered to a runner waits for its claim before it goes to the next runner that asks, ms. */
  claimWindowMs?: number;
  /** How long `jobs/available` waits for a job when none is held for the runner, ms. */
  availableWaitMs?: number;
}

export function runpackSettingsOf(env: {
  GPUFLOW_RUNPACK_HEARTBEAT_THRESHOLD_MS: number;
  GPUFLOW_RUNPACK_RATE_LIMITS: RunpackRateLimits;
  GPUFLOW_RUNPACK_MAX_INPUT_BYTES: number;
  GPUFLOW_RUNPACK_MAX_OUTPUT_BYTES: number;
  GPUFLOW_RUNPACK_MAX_CONSOLE_BYTES: number;
}): RunpackSettings {
  return {
    heartbeatThresholdMs: env.GPUFLOW_RUNPACK_HEARTBEAT_THRESHOLD_MS,
    rateLimits: env.GPUFLOW_RUNPACK_RATE_LIMITS,
    maxInputBytes: env.GPUFLOW_RUNPACK_MAX_INPUT_BYTES,
    maxOutputBytes: env.GPUFLOW_RUNPACK_MAX_OUTPUT_BYTES,
    maxConsoleBytes: env.GPUFLOW_RUNPACK_MAX_CONSOLE_BYTES,
  };
}
