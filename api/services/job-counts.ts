import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { StatusCounts, Stats } from '../../contracts/admin.js';
import { describeJobQueue } from '../../jobs/job-queues.js';
import { runningRows } from '../../jobs/running-jobs.js';
import {
  jobsQuery,
  REPLACEABLE_STATUSES,
  replacingRunsQuery,
  runningJobsQuery,
  type JobsFilter,
} from '../../jobs/visibility-status.js';
import { JobReplacesKey, JobStatusKey } from '../../protocol/search-attributes.js';
import type { WorkerValues } from '../../jobs/worker-values.js';
import type { JobTypeCatalog } from './job-type-catalog.js';
import { mapBounded } from '../../jobs/map-bounded.js';
import { ReusedAnswers } from '../../jobs/reused-answers.js';

/**
 * Up to this many running jobs in a tenant's scope, counts describe each to tell queued from running (exact). Past
 * it, queued jobs are the task queues' backlog. A describe per running job is the one cost of `/v1/stats` that grows
 * with the queue, so this bound is what keeps it flat: 200 describes took about 2 s on the busy bench machine.
 */
export const EXACT_SPLIT_MAX = 25;

type Filter = Omit<JobsFilter, 'status'>;
type ClosedCounts = Omit<StatusCounts, 'IN_QUEUE' | 'IN_PROGRESS'>;

/** One scope's jobs (a tenant, optionally one type): running runs, closed jobs by status, runs that replaced one. */
interface ScopeCounts {
  running: number;
  closed: ClosedCounts;
  retried: number;
}

export interface JobCountsOptions {
  client: Client;
  controlTaskQueue: string;
  catalog: JobTypeCatalog;
  values: WorkerValues;
  /** Temporal calls in flight at once for one answer. */
  concurrency: number;
  /** How long one answer of `stats` is reused, per tenant (concurrent requests share one too), ms. */
  cacheMs: number;
}

/**
 * Jobs by status from visibility. Temporal counts `GROUP BY ExecutionStatus` only, not by our `JobStatus`, so a
 * scope is one grouped count (running runs and every closed status), plus a count of failed runs the workflow
 * marked TIMED_OUT when the scope has failed runs, plus counts of runs that replaced a failed, timed-out or
 * cancelled one when the tenant has any. Queued and running jobs are both Running runs: see {@link EXACT_SPLIT_MAX}.
 */
export class JobCounts {
  /** Bounded: a tenant is an API key's. */
  private readonly answers: ReusedAnswers<Stats>;

  constructor(private readonly options: JobCountsOptions) {
    this.answers = new ReusedAnswers(options.cacheMs);
  }

  /** `/v1/stats` for `tenant` (undefined: every tenant's), shared by the requests of one `cacheMs` window. */
  stats(tenant: string | undefined): Promise<Stats> {
    return this.answers.get(tenant ?? '', () => this.computeStats(tenant));
  }

  private async computeStats(tenant: string | undefined): Promise<Stats> {
    const { controlTaskQueue, concurrency } = this.options;
    const types = await this.options.catalog.list();
    const withReplaced = await this.anyReplacing({ controlTaskQueue, tenant });
    const filters: Filter[] = [undefined, ...types].map((type) => ({ controlTaskQueue, type, tenant }));
    const scopes = await mapBounded(filters, concurrency, (filter) => this.scope(filter, withReplaced));
    const split = await this.split({ controlTaskQueue, tenant }, scopes[0]!.running, types, scopes.slice(1));
    const countsOf = (i: number, type: string | undefined): StatusCounts => ({
      ...split(type, scopes[i]!.running),
      ...scopes[i]!.closed,
    });
    const byType: Stats['byType'] = {};
    types.forEach((type, i) => {
      const counts = countsOf(i + 1, type);
      if (Object.values(counts).some((n) => n > 0)) byType[type] = counts;
    });
    return { byStatus: countsOf(0, undefined), byType };
  }

  /** One type's jobs by status (RunPod's `/health`), and how many runs replaced a failed, timed-out or cancelled one. */
  async typeCounts(type: string, tenant: string | undefined): Promise<{ byStatus: StatusCounts; retried: number }> {
    const filter = { controlTaskQueue: this.options.controlTaskQueue, type, tenant };
    const scope = await this.scope(filter, await this.anyReplacing(filter));
    const split = await this.split(filter, scope.running, [type], [scope]);
    return { byStatus: { ...split(type, scope.running), ...scope.closed }, retried: scope.retried };
  }

  /** Whether any run of the scope replaced another: none (the usual case) spares three counts per scope. */
  private async anyReplacing(filter: Filter): Promise<boolean> {
    const query = `${jobsQuery(filter)} AND ${JobReplacesKey.name} IS NOT NULL`;
    return (await this.options.client.workflow.count(query)).count > 0;
  }

  /** The counts of one scope: a grouped count, and the counts it cannot answer when there is something to count. */
  private async scope(filter: Filter, withReplaced: boolean): Promise<ScopeCounts> {
    const { client } = this.options;
    const runs = new Map<string, number>();
    const grouped = await client.workflow.count(`${jobsQuery(filter)} GROUP BY ExecutionStatus`);
    for (const group of grouped.groups) {
      // The SDK decodes each group value as a search attribute value: a one-element list here.
      const value: unknown = group.groupValues[0];
      runs.set(String(Array.isArray(value) ? value[0] : value), group.count);
    }
    const of = (status: string): number => runs.get(status) ?? 0;
    // STATUS_CONDITIONS: a failed run is TIMED_OUT when the workflow set JobStatus so, FAILED otherwise.
    const failedAsTimeout =
      of('Failed') === 0
        ? 0
        : (
            await client.workflow.count(
              `${jobsQuery(filter)} AND ExecutionStatus = 'Failed' AND ${JobStatusKey.name} = 'TIMED_OUT'`,
            )
          ).count;
    const closedRuns: ClosedCounts = {
      COMPLETED: of('Completed'),
      FAILED: of('Terminated') + of('Failed') - failedAsTimeout,
      CANCELLED: of('Canceled'),
      TIMED_OUT: of('TimedOut') + failedAsTimeout,
    };
    const replaced = { FAILED: 0, CANCELLED: 0, TIMED_OUT: 0 };
    if (withReplaced) {
      await Promise.all(
        [...REPLACEABLE_STATUSES].map(async (status) => {
          const key = status as keyof typeof replaced;
          replaced[key] = (await client.workflow.count(replacingRunsQuery(filter, status))).count;
        }),
      );
    }
    // Jobs, not runs: a status a run can be replaced from counts its runs less the runs that replaced one.
    const closed: ClosedCounts = {
      COMPLETED: closedRuns.COMPLETED,
      FAILED: Math.max(0, closedRuns.FAILED - replaced.FAILED),
      CANCELLED: Math.max(0, closedRuns.CANCELLED - replaced.CANCELLED),
      TIMED_OUT: Math.max(0, closedRuns.TIMED_OUT - replaced.TIMED_OUT),
    };
    const retried = replaced.FAILED + replaced.CANCELLED + replaced.TIMED_OUT;
    return { running: of('Running'), closed, retried };
  }

  /**
   * How the running runs of the scope `filter` (all `types`) and of each type split into queued and in progress.
   * Up to {@link EXACT_SPLIT_MAX} running runs: one describe each, once for every type (exact; a run that closed
   * meanwhile is left out). Past that: queued are the task queues' backlog (approximate, a few seconds behind, and
   * not per tenant), in progress the rest.
   */
  private async split(
    filter: Filter,
    running: number,
    types: readonly string[],
    typeScopes: readonly ScopeCounts[],
  ): Promise<(type: string | undefined, running: number) => Pick<StatusCounts, 'IN_QUEUE' | 'IN_PROGRESS'>> {
    const { client, values, concurrency } = this.options;
    if (running === 0) return () => ({ IN_QUEUE: 0, IN_PROGRESS: 0 });
    if (running <= EXACT_SPLIT_MAX) {
      const infos: WorkflowExecutionInfo[] = [];
      for await (const info of client.workflow.list({ query: runningJobsQuery(filter) })) infos.push(info);
      const rows = [...(await runningRows(client, infos, values, concurrency)).values()];
      return (type) => {
        const mine = rows.filter((row) => type === undefined || row.type === type);
        const queued = mine.filter((row) => row.status === 'IN_QUEUE').length;
        return { IN_QUEUE: queued, IN_PROGRESS: mine.length - queued };
      };
    }
    // Only the types with running jobs: a describe each (Temporal caches these figures for about 5 s).
    const busy = types.filter((_, i) => (typeScopes[i]?.running ?? 0) > 0);
    const backlogs = new Map(
      await mapBounded(busy, concurrency, async (type): Promise<[string, number]> => {
        return [type, (await describeJobQueue(client, type)).backlogCount];
      }),
    );
    // A type's backlog may hold tasks of runs that ended (Temporal drops them when it dispatches them): hence the
    // cap by its running runs, and the overall figure as the sum of the capped ones.
    const queuedOf = (type: string, runs: number): number => Math.min(runs, backlogs.get(type) ?? 0);
    const total = types.reduce((sum, type, i) => sum + queuedOf(type, typeScopes[i]?.running ?? 0), 0);
    return (type, runs) => {
      const queued = type === undefined ? Math.min(runs, total) : queuedOf(type, runs);
      return { IN_QUEUE: queued, IN_PROGRESS: runs - queued };
    };
  }
}
