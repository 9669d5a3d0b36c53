import type { WorkflowExecutionStatusName } from '@temporalio/client';
import { JobReplacesKey, JobStatusKey, JobTypeKey, TenantKey } from '../protocol/search-attributes.js';
import { DEFAULT_TENANT } from '../contracts/tenant.js';
import type { JobStatus } from '../contracts/status.js';
import { jobStatusOf } from './job-status.js';

/*
 * A job's status in visibility, in one place: the list filters, the counts and the status of a listed job all
 * come from here. The JobStatus search attribute alone is not enough: a terminated workflow keeps whatever value it
 * had, so closed jobs are told apart by ExecutionStatus first. In visibility SQL a comparison with a missing value
 * is never true (`JobStatus != 'TIMED_OUT'` skips a workflow without JobStatus), hence the explicit `IS NULL`s.
 *
 * A running job whose JobStatus is neither IN_QUEUE nor missing reads IN_PROGRESS: its attempt has started, or has
 * ended while the workflow closes (the detail view says the same).
 */

const JOB_STATUS = JobStatusKey.name;
const FAILED_AS_TIMEOUT = `(ExecutionStatus = 'Failed' AND ${JOB_STATUS} = 'TIMED_OUT')`;

/** Visibility query conditions, one per job status; together they cover every runJob run exactly once. */
export const STATUS_CONDITIONS: Readonly<Record<JobStatus, string>> = {
  IN_QUEUE: `(ExecutionStatus = 'Running' AND (${JOB_STATUS} = 'IN_QUEUE' OR ${JOB_STATUS} IS NULL))`,
  IN_PROGRESS: `(ExecutionStatus = 'Running' AND ${JOB_STATUS} != 'IN_QUEUE')`,
  COMPLETED: `ExecutionStatus = 'Completed'`,
  CANCELLED: `ExecutionStatus = 'Canceled'`,
  TIMED_OUT: `(${FAILED_AS_TIMEOUT} OR ExecutionStatus = 'TimedOut')`,
  FAILED: `(ExecutionStatus = 'Terminated' OR (ExecutionStatus = 'Failed' AND (${JOB_STATUS} IS NULL OR ${JOB_STATUS} != 'TIMED_OUT')))`,
};

/** The status of one visibility record, by the same rules as {@link STATUS_CONDITIONS} (see {@link jobStatusOf}). */
export function jobStatusOfRecord(
  execution: WorkflowExecutionStatusName,
  jobStatus: string | undefined,
  errorType?: string,
): JobStatus {
  return jobStatusOf({ execution, jobStatus, errorType });
}

/** A string literal for a visibility query. Callers pass validated names; this refuses anything that could escape. */
function literal(value: string): string {
  if (/['"\\\n\r]/.test(value)) throw new TypeError(`not usable in a visibility query: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

/** Which jobs a visibility query covers: those of one control task queue, optionally of one type, status, tenant. */
export interface JobsFilter {
  controlTaskQueue: string;
  type?: string | undefined;
  status?: JobStatus | undefined;
  /** Jobs started before tenants existed carry no Tenant attribute: they are the default tenant's. */
  tenant?: string | undefined;
}

/** The visibility query for the jobs (runJob workflows) of one control task queue, optionally filtered. */
export function jobsQuery(filter: JobsFilter): string {
  const parts = [`WorkflowType = 'runJob'`, `TaskQueue = ${literal(filter.controlTaskQueue)}`];
  if (filter.type !== undefined) parts.push(`${JobTypeKey.name} = ${literal(filter.type)}`);
  if (filter.tenant === DEFAULT_TENANT) {
    parts.push(`(${TenantKey.name} = ${literal(DEFAULT_TENANT)} OR ${TenantKey.name} IS NULL)`);
  } else if (filter.tenant !== undefined) {
    parts.push(`${TenantKey.name} = ${literal(filter.tenant)}`);
  }
  if (filter.status !== undefined) parts.push(STATUS_CONDITIONS[filter.status]);
  return parts.join(' AND ');
}

/**
 * Running runs of the jobs filtered like {@link jobsQuery}: queued and in progress alike. Workers no longer report an
 * attempt's start, so JobStatus stays IN_QUEUE until the end; a describe (the pending activity) tells the two apart.
 */
export function runningJobsQuery(filter: Omit<JobsFilter, 'status'>): string {
  return `${jobsQuery(filter)} AND ExecutionStatus = 'Running'`;
}

/** Statuses a job's run can end with and still be replaced by a newer run under the same id. */
export const REPLACEABLE_STATUSES: ReadonlySet<JobStatus> = new Set(['FAILED', 'TIMED_OUT', 'CANCELLED']);

/**
 * The runs (filtered like {@link jobsQuery}) that replaced a run which had ended `replaced`: as many runs with that
 * status are no longer jobs. Counts of jobs are the counts of runs less these.
 */
export function replacingRunsQuery(filter: Omit<JobsFilter, 'status'>, replaced: JobStatus): string {
  return `${jobsQuery(filter)} AND ${JobReplacesKey.name} = ${literal(replaced)}`;
}

/** Every run of these jobs (ids from a page of visibility records). */
export function runsOfJobsQuery(controlTaskQueue: string, jobIds: readonly string[]): string {
  return `${jobsQuery({ controlTaskQueue })} AND WorkflowId IN (${jobIds.map(literal).join(', ')})`;
}
