import type { AttemptFacts, ExecuteJobResult } from './activity.js';
import { ARTIFACT_NAME_PATTERN, MAX_ARTIFACTS_PER_JOB, isPlainObject } from './blob-refs.js';
import type { Artifact } from './blobs.js';
import type { AttemptFailureDetails } from './failures.js';
import type { HeartbeatDetails, Progress } from './heartbeat.js';
import { HEARTBEAT_LOG_LINES, MAX_LOG_LINE_CHARS, MAX_PROGRESS_MESSAGE_CHARS } from './heartbeat-limits.js';
import type { AttemptFailed } from './signal-definitions.js';

/**
 * Readers of what a workflow takes from workers in any language (an attempt's result, a failure's or a cancel's
 * details, the last heartbeat, the old attempt signals): each gives back exactly what the protocol's zod schema of
 * the same name would (`ExecuteJobResultSchema` for `readExecuteJobResult`, ...), unknown keys dropped, or
 * `undefined` where that schema would refuse the value. `test/unit/readers.test.ts` holds every reader to its schema.
 *
 * Why not the schemas themselves: the Temporal SDK evaluates the workflow bundle's modules once per workflow, so
 * every job's workflow built its own copy of zod and of every schema it imported: about half of the orchestrator's
 * CPU per job (measured with `--cpu-prof`) and most of the memory of each cached workflow. The zod schemas stay the
 * specification (workers, the API and the published JSON Schemas use them); the workflow bundle imports no zod.
 */

// z.iso.datetime(): RFC 3339 in UTC with seconds, any fraction, and a real calendar date (zod's own pattern).
const DATE =
  '(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))';
const ISO_DATETIME = new RegExp(`^${DATE}T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?Z$`);

const isString = (value: unknown, min = 0, max = Infinity): value is string =>
  typeof value === 'string' && value.length >= min && value.length <= max;
const isWhole = (value: unknown, min: number): value is number =>
  Number.isSafeInteger(value) && (value as number) >= min;
const isNumber = (value: unknown, min: number, max = Infinity): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;

/** `AttemptFactsSchema`. */
export function readAttemptFacts(value: unknown): AttemptFacts | undefined {
  if (!isPlainObject(value)) return undefined;
  const { attempt, workerId, scheduledAt, startedAt } = value;
  if (!isWhole(attempt, 1) || !isString(workerId, 1, 256)) return undefined;
  if (!isString(scheduledAt) || !ISO_DATETIME.test(scheduledAt)) return undefined;
  if (!isString(startedAt) || !ISO_DATETIME.test(startedAt)) return undefined;
  return { attempt, workerId, scheduledAt, startedAt };
}

/** `z.array(ArtifactSchema).max(max)`. */
export function readArtifacts(value: unknown, max = Infinity): Artifact[] | undefined {
  if (!Array.isArray(value) || value.length > max) return undefined;
  const artifacts: Artifact[] = [];
  for (const item of value as unknown[]) {
    if (!isPlainObject(item)) return undefined;
    const { name, size, contentType } = item;
    if (!isString(name) || !ARTIFACT_NAME_PATTERN.test(name) || !isWhole(size, 0) || !isString(contentType)) {
      return undefined;
    }
    artifacts.push({ name, size, contentType });
  }
  return artifacts;
}

/** `ProgressSchema`. */
export function readProgress(value: unknown): Progress | undefined {
  if (!isPlainObject(value)) return undefined;
  const { percent, message } = value;
  if (!isNumber(percent, 0, 100)) return undefined;
  if (message !== null && !isString(message, 0, MAX_PROGRESS_MESSAGE_CHARS)) return undefined;
  return { percent, message };
}

/** `ExecuteJobResultSchema`: a completed attempt's result. */
export function readExecuteJobResult(value: unknown): ExecuteJobResult | undefined {
  // The key must be there (zod's `unknown()` in an object), whatever its value: a handler may return null.
  if (!isPlainObject(value) || !('output' in value)) return undefined;
  const artifacts = readArtifacts(value.artifacts);
  if (!artifacts) return undefined;
  const result: ExecuteJobResult = { output: value.output, artifacts };
  if (value.attemptFacts !== undefined) {
    const facts = readAttemptFacts(value.attemptFacts);
    if (!facts) return undefined;
    result.attemptFacts = facts;
  }
  if (value.handlerTimeMs !== undefined) {
    if (!isNumber(value.handlerTimeMs, 0)) return undefined;
    result.handlerTimeMs = value.handlerTimeMs;
  }
  return result;
}

/** `AttemptFailureDetailsSchema`: the first detail of a worker's failure or cancellation. */
export function readAttemptFailureDetails(value: unknown): AttemptFailureDetails | undefined {
  if (!isPlainObject(value)) return undefined;
  const details: AttemptFailureDetails = {};
  if (value.artifacts !== undefined) {
    const artifacts = readArtifacts(value.artifacts);
    if (!artifacts) return undefined;
    details.artifacts = artifacts;
  }
  if (value.attempt !== undefined) {
    if (!isWhole(value.attempt, 1)) return undefined;
    details.attempt = value.attempt;
  }
  if ('checkpoint' in value) details.checkpoint = value.checkpoint;
  if (value.attemptFacts !== undefined) {
    const facts = readAttemptFacts(value.attemptFacts);
    if (!facts) return undefined;
    details.attemptFacts = facts;
  }
  if (value.progress !== undefined) {
    const progress = value.progress === null ? null : readProgress(value.progress);
    if (progress === undefined) return undefined;
    details.progress = progress;
  }
  return details;
}

/** `HeartbeatDetailsSchema`: the details of an attempt's last heartbeat. */
export function readHeartbeatDetails(value: unknown): HeartbeatDetails | undefined {
  if (!isPlainObject(value)) return undefined;
  const progress = value.progress === null ? null : readProgress(value.progress);
  if (progress === undefined) return undefined;
  const { log } = value;
  if (!Array.isArray(log) || log.length > HEARTBEAT_LOG_LINES) return undefined;
  if (!(log as unknown[]).every((line) => isString(line, 0, MAX_LOG_LINE_CHARS))) return undefined;
  const details: HeartbeatDetails = { progress, log: [...(log as string[])] };
  if ('checkpoint' in value) details.checkpoint = value.checkpoint;
  if (value.artifacts !== undefined) {
    const artifacts = readArtifacts(value.artifacts, MAX_ARTIFACTS_PER_JOB);
    if (!artifacts) return undefined;
    details.artifacts = artifacts;
  }
  if (value.workerId !== undefined) {
    if (!isString(value.workerId, 1, 256)) return undefined;
    details.workerId = value.workerId;
  }
  if (value.attemptFacts !== undefined) {
    const facts = readAttemptFacts(value.attemptFacts);
    if (!facts) return undefined;
    details.attemptFacts = facts;
  }
  return details;
}

/** `AttemptFailedSchema`: the argument of the `attemptFailed` signal older workers send. */
export function readAttemptFailed(value: unknown): AttemptFailed | undefined {
  return isPlainObject(value) && isWhole(value.attempt, 1) ? { attempt: value.attempt } : undefined;
}
