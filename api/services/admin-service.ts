import type { Client } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import type { JobList, JobQueue, ListJobsQuery, Queues, StatusCounts, Stats } from '../../contracts/admin.js';
import { decodeCursor, encodeCursor } from './job-cursor.js';
import { describeJobQueue, setJobQueuePaused } from '../../jobs/job-queues.js';
import { listedJobView, replacedRuns } from '../../jobs/job-listing.js';
import { WorkerValues } from '../../jobs/worker-values.js';
import type { Runners } from '../gateway/runners.js';
import type { JobTypeCatalog } from './job-type-catalog.js';
import { runningRows } from '../../jobs/running-jobs.js';
import { jobsQuery, runningJobsQuery } from '../../jobs/visibility-status.js';
import { JobCounts } from './job-counts.js';
import { mapBounded } from '../../jobs/map-bounded.js';

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
  /**
   * How long one `/v1/stats` answer is reused per tenant, ms: a dashboard polling it, or many at once, costs one set
   * of visibility counts per window (visibility itself lags writes by about a second). @defaultValue 2000
   */
  statsCacheMs?: number;
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
  private readonly counts: JobCounts;

  constructor(options: AdminServiceOptions) {
    this.client = options.client;
    this.controlTaskQueue = options.controlTaskQueue;
    this.catalog = options.catalog;
    this.temporalTimeoutMs = options.temporalTimeoutMs ?? 5000;
    this.concurrency = options.concurrency ?? 8;
    this.values = options.values ?? new WorkerValues();
    this.runners = options.runners;
    this.counts = new JobCounts({
      client: this.client,
      controlTaskQueue: this.controlTaskQueue,
      catalog: this.catalog,
      values: this.values,
      concurrency: this.concurrency,
      cacheMs: options.statsCacheMs ?? 2000,
    });
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
   * Jobs by status, overall and for every known type that has jobs (see {@link JobCounts}). Counts are approximate,
   * like visibility, and reused for `statsCacheMs`. Jobs, not runs: a status a run can be replaced from counts its
   * runs less the runs that replaced one in that status. `tenant`: that tenant's jobs only; undefined: every tenant's.
   */
  stats(tenant: string | undefined): Promise<Stats> {
    return this.bounded(() => this.counts.stats(tenant));
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
    return this.bounded(() => this.counts.typeCounts(type, tenant));
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
