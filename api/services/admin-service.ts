import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import type { JobList, JobQueue, ListJobsQuery, Queues, StatusCounts, Stats } from '../../contracts/admin.js';
import { JOB_STATUSES, type JobStatus } from '../../contracts/status.js';
import { decodeCursor, encodeCursor } from './job-cursor.js';
import { describeJobQueue, setJobQueuePaused } from '../../jobs/job-queues.js';
import { listedJobView, replacedRuns } from '../../jobs/job-listing.js';
import { WorkerValues } from '../../jobs/worker-values.js';
import type { Runners } from '../gateway/runners.js';
import type { JobTypeCatalog } from './job-type-catalog.js';
import { runningRows } from '../../jobs/running-jobs.js';
import {
  jobsQuery,
  REPLACEABLE_STATUSES,
  replacingRunsQuery,
  runningJobsQuery,
  type JobsFilter,
} from '../../jobs/visibility-status.js';

/** Up to this many running jobs in a scope, counts describe each to tell queued from running (exact). */
const EXACT_SPLIT_MAX = 200;

export interface AdminServiceOptions {
  client: Client;
  controlTaskQueue: string;
  catalog: JobTypeCatalog;
  /** Longest one operator view waits on Temporal, ms (then 503). @defaultValue 5000 */
  temporalTimeoutMs?: number;
  /**
   * Visibility and task queue calls in flight at once for one request (stats and queues make a few per type).
   * @defaultValue 8
   */
  concurrency?: number;
  /** How worker-produced values (the memo) are read and their misfits reported. */
  values?: WorkerValues;
  /** The worker gateway's HTTP runners, listed in each queue next to Temporal's pollers. */
  runners?: Pick<Runners, 'list' | 'runnersOf'>;
}

/** Operator views: job listings, counts and queues, from Temporal visibility and task queue descriptions. */
export class AdminService {
  private readonly client: Client;
  private readonly controlTaskQueue: string;
  private readonly catalog: JobTypeCatalog;
  private readonly temporalTimeoutMs: number;
  private readonly concurrency: number;
  private readonly values: WorkerValues;
  private readonly runners: AdminServiceOptions['runners'];
  private readonly splits = new Map<string, Promise<{ queued: number; inProgress: number }>>();

  constructor(options: AdminServiceOptions) {
    this.client = options.client;
    this.controlTaskQueue = options.controlTaskQueue;
    this.catalog = options.catalog;
    this.temporalTimeoutMs = options.temporalTimeoutMs ?? 5000;
    this.concurrency = options.concurrency ?? 8;
    this.values = options.values ?? new WorkerValues();
    this.runners = options.runners;
  }

  private bounded<T>(operation: () => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + this.temporalTimeoutMs, operation);
  }

  /**
   * One page of jobs. Visibility decides the order (SQL visibility cannot ORDER BY): running jobs first, newest
   * start first, then closed jobs by close time, newest first. The cursor wraps Temporal's next page token.
   * One row per job: a run that a retry or resubmission replaced is left out, so a page may hold fewer rows than
   * `limit` (its cursor still goes on). `tenant`: that tenant's jobs only; undefined: every tenant's (admin).
   */
  listJobs(query: ListJobsQuery, tenant: string | undefined): Promise<JobList> {
    return this.bounded(async () => {
      // Queued and running jobs are both Running runs: a describe of each on the page tells them apart.
      const running = query.status === 'IN_QUEUE' || query.status === 'IN_PROGRESS';
      const filter = { controlTaskQueue: this.controlTaskQueue, type: query.type, tenant };
      const visibilityQuery = running ? runningJobsQuery(filter) : jobsQuery({ ...filter, status: query.status });
      const response = await this.client.workflowService.listWorkflowExecutions({
        namespace: this.client.options.namespace,
        query: visibilityQuery,
        pageSize: query.limit,
        nextPageToken: query.cursor === undefined ? undefined : decodeCursor(visibilityQuery, query.cursor),
      });
      const { loadedDataConverter, namespace } = this.client.options;
      const infos = await Promise.all(
        response.executions.map((raw) => executionInfoFromRaw(raw, loadedDataConverter, raw, namespace)),
      );
      const token = response.nextPageToken;
      const [replaced, described] = await Promise.all([
        replacedRuns(this.client, this.controlTaskQueue, infos),
        runningRows(this.client, infos, this.values, this.concurrency),
      ]);
      const jobs = infos
        .filter((info) => !replaced.has(info.runId))
        .map((info) => described.get(info.runId) ?? listedJobView(info, this.values))
        .filter((job) => !running || job.status === query.status);
      return {
        jobs,
        nextCursor: token && token.length > 0 ? encodeCursor(visibilityQuery, token) : null,
      };
    });
  }

  /**
   * Jobs by status, overall and for every known type that has jobs. Counts are approximate, like visibility. Jobs,
   * not runs: a status a run can be replaced from counts its runs less the runs that replaced one in that status.
   * `tenant`: that tenant's jobs only; undefined: every tenant's (admin).
   */
  stats(tenant: string | undefined): Promise<Stats> {
    return this.bounded(async () => {
      const types = await this.catalog.list();
      const scopes: (string | undefined)[] = [undefined, ...types];
      const cells = scopes.flatMap((type) => JOB_STATUSES.map((status) => ({ type, status })));
      const counts = await mapBounded(cells, this.concurrency, ({ type, status }) =>
        this.jobCount(type, status, tenant),
      );
      const countsOf = (scope: number): StatusCounts => {
        const entries = JOB_STATUSES.map((status, i): [JobStatus, number] => [
          status,
          counts[scope * JOB_STATUSES.length + i] ?? 0,
        ]);
        return Object.fromEntries(entries) as StatusCounts;
      };
      const byType: Stats['byType'] = {};
      types.forEach((type, i) => {
        const typeCounts = countsOf(i + 1);
        if (Object.values(typeCounts).some((n) => n > 0)) byType[type] = typeCounts;
      });
      return { byStatus: countsOf(0), byType };
    });
  }

  /** The gateway's HTTP runners of a type, as `/v1/queues` lists them. */
  private runnerRow(type: string): JobQueue['runners'] {
    return { ...(this.runners?.runnersOf(type) ?? { idle: 0, running: 0 }), list: this.runners?.list(type) ?? [] };
  }

  /** Pauses a job type: its jobs stay IN_QUEUE, running ones finish, no worker of any kind gets a new one. */
  pause(type: string, reason?: string): Promise<JobQueue> {
    return this.setPaused(type, true, reason);
  }

  /** Resumes a paused job type: its backlog is dispatched again. */
  resume(type: string): Promise<JobQueue> {
    return this.setPaused(type, false);
  }

  /**
   * Durably in Temporal (the task queue's config), then the queue as it is now. The type need not be known yet:
   * pausing before the first worker starts is how an operator holds a new type back.
   */
  private setPaused(type: string, paused: boolean, reason?: string): Promise<JobQueue> {
    return this.bounded(async () => {
      await setJobQueuePaused(this.client, type, paused, { identity: 'gpuflow-api', reason });
      const runners = this.runnerRow(type);
      return { type, ...(await describeJobQueue(this.client, type)), runners };
    });
  }

  /**
   * Jobs of one type by status (RunPod's `/health`), and how many of them were retried or resubmitted after they
   * had failed, timed out or been cancelled (runs that replaced another). `tenant`: that tenant's jobs only.
   */
  typeCounts(type: string, tenant: string | undefined): Promise<{ byStatus: StatusCounts; retried: number }> {
    return this.bounded(async () => {
      const filter = { controlTaskQueue: this.controlTaskQueue, type, tenant };
      const replacing = [...REPLACEABLE_STATUSES].map((status) => replacingRunsQuery(filter, status));
      const [byStatus, retried] = await Promise.all([
        mapBounded(JOB_STATUSES, this.concurrency, (status) => this.jobCount(type, status, tenant)),
        mapBounded(replacing, this.concurrency, async (query) => (await this.client.workflow.count(query)).count),
      ]);
      const counts = Object.fromEntries(JOB_STATUSES.map((status, i) => [status, byStatus[i] ?? 0]));
      return { byStatus: counts as StatusCounts, retried: retried.reduce((sum, n) => sum + n, 0) };
    });
  }

  /** Jobs (not runs) of a status: runs of a status a run can be replaced from, less the runs that replaced one. */
  private async jobCount(type: string | undefined, status: JobStatus, tenant: string | undefined): Promise<number> {
    const filter = { controlTaskQueue: this.controlTaskQueue, type, tenant };
    if (status === 'IN_QUEUE' || status === 'IN_PROGRESS') {
      const split = await this.runningSplit(filter);
      return status === 'IN_QUEUE' ? split.queued : split.inProgress;
    }
    const runs = (await this.client.workflow.count(jobsQuery({ ...filter, status }))).count;
    if (!REPLACEABLE_STATUSES.has(status)) return runs;
    const replaced = (await this.client.workflow.count(replacingRunsQuery(filter, status))).count;
    return Math.max(0, runs - replaced);
  }

  /**
   * Running jobs split into queued and in progress. Visibility does not see an attempt start (workers no longer
   * report it), so up to {@link EXACT_SPLIT_MAX} running jobs are described one by one (exact); past that, the queued
   * ones are the task queues' backlog (approximate, a few seconds behind, and not per tenant). One split serves the
   * two counts of a scope; it is kept for a second.
   */
  private runningSplit(filter: Omit<JobsFilter, 'status'>): Promise<{ queued: number; inProgress: number }> {
    const key = `${filter.type ?? ''}\u0000${filter.tenant ?? ''}`;
    const cached = this.splits.get(key);
    if (cached) return cached;
    const split = (async () => {
      const query = runningJobsQuery(filter);
      const runs = (await this.client.workflow.count(query)).count;
      if (runs <= EXACT_SPLIT_MAX) {
        const infos: WorkflowExecutionInfo[] = [];
        for await (const info of this.client.workflow.list({ query })) infos.push(info);
        const rows = await runningRows(this.client, infos, this.values, this.concurrency);
        const queued = [...rows.values()].filter((row) => row.status === 'IN_QUEUE').length;
        return { queued, inProgress: rows.size - queued };
      }
      const queued = Math.min(runs, await this.backlogOf(filter.type));
      return { queued, inProgress: runs - queued };
    })();
    this.splits.set(key, split);
    setTimeout(() => this.splits.delete(key), 1000).unref();
    return split;
  }

  /** Attempts waiting in the task queue of `type`, or of every known type. */
  private async backlogOf(type: string | undefined): Promise<number> {
    const types = type === undefined ? await this.catalog.list() : [type];
    const queues = await mapBounded(types, this.concurrency, (name) => describeJobQueue(this.client, name));
    return queues.reduce((sum, queue) => sum + queue.backlogCount, 0);
  }

  /** The task queue of every known type that has jobs, workers (Temporal pollers or HTTP runners) or a backlog. */
  queues(): Promise<Queues> {
    return this.bounded(async () => {
      const types = await this.catalog.list();
      const rows = await mapBounded(types, this.concurrency, async (type) => {
        const [queue, jobs] = await Promise.all([
          describeJobQueue(this.client, type),
          this.client.workflow.count(jobsQuery({ controlTaskQueue: this.controlTaskQueue, type })),
        ]);
        const runners = this.runnerRow(type);
        return {
          used:
            jobs.count > 0 ||
            queue.workers.length > 0 ||
            queue.backlogCount > 0 ||
            runners.list.length > 0 ||
            queue.paused !== null,
          queue: { type, ...queue, runners },
        };
      });
      return { queues: rows.filter((row) => row.used).map((row) => row.queue) };
    });
  }
}

/** `fn` over `items` with at most `limit` calls in flight; results in the order of `items`. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
