import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { artifactViews } from '../protocol/blobs.js';
import type { JobErrorView, JobView } from '../contracts/job.js';
import { JobStatusKey, JobTypeKey } from '../protocol/search-attributes.js';
import { jobStatusOfRecord, runsOfJobsQuery } from './visibility-status.js';
import { WorkerValues } from './worker-values.js';

const defaultValues = new WorkerValues();

const msOf = (isoTime: string | undefined): number | undefined => (isoTime ? Date.parse(isoTime) : undefined);

/**
 * The view of a listed job, from its visibility record alone (no describe, no result per job): status from
 * ExecutionStatus and the JobStatus search attribute, attempt facts and the error from the memo the workflow
 * keeps. Listings carry no `output` and no `progress`; GET the job for those.
 */
export function listedJobView(info: WorkflowExecutionInfo, values: WorkerValues = defaultValues): JobView {
  const memo = values.memo(info.workflowId, info.memo);
  const status = jobStatusOfRecord(info.status.name, info.typedSearchAttributes.get(JobStatusKey));
  const scheduledMs = msOf(memo.scheduledAt);
  const startedMs = msOf(memo.startedAt);
  const closedMs = info.closeTime?.getTime();
  const workerId = memo.workerId ?? null;
  const view: JobView = {
    id: info.workflowId,
    type: info.typedSearchAttributes.get(JobTypeKey) ?? info.workflowId.replace(/-[^-]+$/, ''),
    status,
    attempt: memo.attempt ?? 0,
    progress: null,
    createdAt: info.startTime.toISOString(),
    startedAt: memo.startedAt ?? null,
    completedAt: closedMs === undefined ? null : new Date(closedMs).toISOString(),
    delayTimeMs: scheduledMs !== undefined && startedMs !== undefined ? Math.max(0, startedMs - scheduledMs) : null,
    // The handler's own time when its worker measured it; else the attempt's span up to the workflow's close.
    executionTimeMs:
      memo.handlerTimeMs ??
      (closedMs !== undefined && startedMs !== undefined ? Math.max(0, closedMs - startedMs) : null),
    workerId,
    artifacts: artifactViews(info.workflowId, memo.artifacts),
  };
  if (status === 'FAILED' || status === 'TIMED_OUT') view.error = memo.error ?? errorWithoutMemo(info, workerId);
  return view;
}

/** A job that ended without the workflow recording why: terminated from outside, or its workflow timed out. */
function errorWithoutMemo(info: WorkflowExecutionInfo, workerId: string | null): JobErrorView {
  switch (info.status.name) {
    case 'TERMINATED':
      return { type: 'Terminated', message: 'terminated by an operator', retryable: true, workerId };
    case 'TIMED_OUT':
      return { type: 'TtlExpired', message: 'the job ran out of time', retryable: true, workerId: null };
    default:
      return { type: 'Error', message: 'the job failed', retryable: true, workerId };
  }
}

/**
 * The records of `infos` that are not their job any more: a closed run that a newer run under the same id replaced
 * (a retry, a resubmission). Visibility holds one record per run; a listing shows one row per job.
 */
export async function replacedRuns(
  client: Client,
  controlTaskQueue: string,
  infos: readonly WorkflowExecutionInfo[],
): Promise<Set<string>> {
  // Only a run that ended other than completed can be replaced (a completed job is the cache).
  const candidates = infos.filter((info) => info.status.name !== 'RUNNING' && info.status.name !== 'COMPLETED');
  if (candidates.length === 0) return new Set();
  const ids = [...new Set(candidates.map((info) => info.workflowId))];
  const latestStart = new Map<string, number>();
  for await (const run of client.workflow.list({ query: runsOfJobsQuery(controlTaskQueue, ids) })) {
    const started = run.startTime.getTime();
    if (started > (latestStart.get(run.workflowId) ?? -Infinity)) latestStart.set(run.workflowId, started);
  }
  return new Set(
    candidates
      .filter((info) => info.startTime.getTime() < (latestStart.get(info.workflowId) ?? -Infinity))
      .map((info) => info.runId),
  );
}
