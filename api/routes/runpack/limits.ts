import type { RunpackOperation, RunpackSettings } from '../../../config/runpack.js';
import { Errors } from '../../errors.js';
import { operationRateLimit } from '../../plugins/rate-limit.js';

/** The route config of one Runpack operation: who may call it, and its own rate limit when one is set. */
export function operationConfig(
  settings: RunpackSettings,
  operation: RunpackOperation,
  roles: readonly ('submit' | 'worker' | 'admin')[],
) {
  const limit = settings.rateLimits[operation];
  return { roles, ...(limit ? { rateLimit: operationRateLimit(limit) } : {}) };
}

/** A 413 when `value`'s JSON is over `max` bytes (input params, output data, console output). */
export function checkSize(field: string, value: unknown, max: number): void {
  if (value === undefined) return;
  const bytes = Buffer.byteLength(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
  if (bytes > max) throw new Errors.FieldTooLarge(field, bytes, max);
}
