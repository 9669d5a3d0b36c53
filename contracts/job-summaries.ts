import { isBlobRef } from '../protocol/blob-refs.js';
import type { JobPolicy } from './job.js';

/**
 * What the Temporal UI shows for a job, so that its workflow list reads like a job list rather than `runJob` on
 * every row: a one-line summary and Markdown details, set once at start (Temporal's user metadata, which the UI
 * and `temporal workflow describe` show). Pure: the API uses them to start a job, the workflow for its attempts.
 */

/** Longest short form of a job's input in a summary, characters. */
const INPUT_SUMMARY_CHARS = 80;
/** Longest short form of a job's input in the details, characters. */
const INPUT_DETAILS_CHARS = 400;

/** The input as the UI shows it: its JSON cut to `max` characters, or what a stored input is. */
export function inputShortForm(input: unknown, max: number = INPUT_SUMMARY_CHARS): string {
  if (isBlobRef(input)) return `(stored input, ${input.$gpuflowBlob.size} bytes)`;
  const json = JSON.stringify(input) ?? 'null';
  return json.length <= max ? json : `${json.slice(0, max - 1)}…`;
}

/** A duration in ms as a person reads it: `90 s`, `10 min`, `24 h`, `7 d`. */
export function durationShortForm(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  return ms % 1000 === 0 || ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

function policyShortForm(policy: JobPolicy): string {
  const attempts = policy.maxAttempts === 1 ? '1 attempt' : `up to ${policy.maxAttempts} attempts`;
  return [
    attempts,
    `${durationShortForm(policy.executionTimeoutMs)} per attempt`,
    `TTL ${durationShortForm(policy.ttlMs)}`,
    `lease ${durationShortForm(policy.heartbeatTimeoutMs)}`,
    `priority ${policy.priority}`,
  ].join(', ');
}

export interface JobSummaryFacts {
  jobId: string;
  type: string;
  input: unknown;
  policy: JobPolicy;
  tenant?: string;
  /** The status the run replaces, when it runs a failed, cancelled or timed-out job again. */
  replaces?: string;
}

/** One line: `sleep job: {"seconds":2}`. */
export function jobWorkflowSummary(job: JobSummaryFacts): string {
  return `${job.type} job: ${inputShortForm(job.input)}`;
}

/** Markdown: the job's type, a short form of its input, its policy (and tenant, and what it reruns). */
export function jobWorkflowDetails(job: JobSummaryFacts): string {
  const lines = [
    `**gpuflow job** \`${job.jobId}\``,
    '',
    `- **Type**: \`${job.type}\` (task queue \`jobs.${job.type}\`)`,
    `- **Input**: \`${inputShortForm(job.input, INPUT_DETAILS_CHARS).replaceAll('`', "'")}\``,
    `- **Policy**: ${policyShortForm(job.policy)}`,
  ];
  if (job.tenant !== undefined) lines.push(`- **Tenant**: \`${job.tenant}\``);
  if (job.replaces !== undefined) lines.push(`- **Runs again** a job that ended ${job.replaces}`);
  return lines.join('\n');
}

/**
 * The summary of the `executeJob` activity, one per scheduling: Temporal's retries of it are its attempts.
 * `drains` counts the times a drained worker handed the job back (each schedules the activity again).
 */
export function attemptActivitySummary(type: string, maxAttempts: number, drains: number): string {
  const again = drains > 0 ? `, scheduled again after ${drains === 1 ? 'a drain' : `${drains} drains`}` : '';
  return `${type} handler on jobs.${type} (up to ${maxAttempts} attempts${again})`;
}

/** The job type catalog's summary: it is gpuflow's own bookkeeping, not a job. */
export const JOB_TYPE_CATALOG_SUMMARY = 'gpuflow job type catalog: internal, not a job (lists the job types seen)';

/** The catalog's details (Markdown). */
export const JOB_TYPE_CATALOG_DETAILS = [
  '**gpuflow job type catalog**: not a job. It runs forever and holds the job types that workers serve and',
  'clients submit, so the API can list them (`GET /v1/queues`, `/v1/stats`). Leave it running; gpuflow starts it',
  'again when it is missing. Filter it out of the job list with `WorkflowType = "runJob"`.',
].join('\n');
