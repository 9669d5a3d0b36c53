import type { Client } from '@temporalio/client';
import type { MaxJobsInFlight } from '../../config/limits.js';
import { jobsQuery } from '../../jobs/visibility-status.js';
import { Errors } from '../errors.js';

export interface InFlightCapsOptions {
  client: Client;
  controlTaskQueue: string;
  caps: MaxJobsInFlight;
  /** How long a count from visibility is trusted, ms. @defaultValue 2000 */
  cacheMs?: number;
  /** A run this replica started that visibility still does not show after this long is no longer counted, ms. */
  maxVisibilityLagMs?: number;
}

/** A place for one new run, reserved by {@link InFlightCaps.admit}: say how the start went. */
export interface Admission {
  started(runId: string): void;
  abandoned(): void;
}

interface TenantCount {
  /** The tenant's running jobs as visibility last counted them. */
  counted: number;
  /** Starts admitted and under way. */
  pending: number;
  /** Runs this replica started that the last count may not include yet (visibility lags), with when. */
  recent: Map<string, number>;
  at: number;
  refreshing?: Promise<void> | undefined;
}

const NO_ADMISSION: Admission = { started: () => undefined, abandoned: () => undefined };

/**
 * Per-tenant caps on jobs in flight (queued or running: a running `runJob` workflow). The count comes from
 * visibility (`Tenant = x AND ExecutionStatus = 'Running'`), refreshed at most every `cacheMs`, plus the starts this
 * replica admitted that visibility does not show yet (found by run id at each refresh). On one replica a burst
 * cannot overshoot: every racer waits for the same refresh, then checks and reserves in one turn of the event loop.
 * Across N replicas each one learns of the others' starts only from visibility: a burst spread over them may
 * overshoot by what the other replicas admitted within one `cacheMs` plus visibility's lag (about a second). A job
 * that ends frees its place at the next refresh, so for up to `cacheMs` the cap errs on the side of refusing.
 */
export class InFlightCaps {
  private readonly counts = new Map<string, TenantCount>();
  private readonly cacheMs: number;
  private readonly maxVisibilityLagMs: number;

  constructor(private readonly options: InFlightCapsOptions) {
    this.cacheMs = options.cacheMs ?? 2000;
    this.maxVisibilityLagMs = options.maxVisibilityLagMs ?? 10_000;
  }

  /** The tenant's cap, or undefined: not capped. */
  capOf(tenant: string): number | undefined {
    return this.options.caps[tenant] ?? this.options.caps['*'];
  }

  /** Reserves a place for one new run of the tenant's, or throws a 429 naming the cap and the count. */
  async admit(tenant: string): Promise<Admission> {
    const cap = this.capOf(tenant);
    if (cap === undefined) return NO_ADMISSION;
    const count = await this.fresh(tenant);
    const inFlight = count.counted + count.pending + count.recent.size;
    if (inFlight >= cap) throw new Errors.TooManyJobs(tenant, cap, inFlight);
    count.pending += 1;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      count.pending -= 1;
      return true;
    };
    return {
      started: (runId) => {
        if (settle()) count.recent.set(runId, Date.now());
      },
      abandoned: () => void settle(),
    };
  }

  private async fresh(tenant: string): Promise<TenantCount> {
    let count = this.counts.get(tenant);
    if (!count) {
      count = { counted: 0, pending: 0, recent: new Map(), at: -Infinity };
      this.counts.set(tenant, count);
    }
    if (Date.now() - count.at >= this.cacheMs) {
      const current = count;
      current.refreshing ??= this.refresh(tenant, current).finally(() => {
        current.refreshing = undefined;
      });
      await current.refreshing;
    }
    return count;
  }

  private async refresh(tenant: string, count: TenantCount): Promise<void> {
    const started = Date.now();
    const tenantJobs = jobsQuery({ controlTaskQueue: this.options.controlTaskQueue, tenant });
    // Which of our recent starts visibility shows, asked before the count: one that shows up in between is
    // counted twice until the next refresh (refusing a little early) rather than not at all.
    const recent = [...count.recent.keys()];
    if (recent.length > 0) {
      const ids = recent.map((runId) => `'${runId.replace(/[^0-9a-f-]/g, '')}'`).join(', ');
      const { executions } = await this.options.client.workflowService.listWorkflowExecutions({
        namespace: this.options.client.options.namespace,
        query: `${tenantJobs} AND RunId IN (${ids})`,
        pageSize: recent.length,
      });
      for (const execution of executions) count.recent.delete(execution.execution?.runId ?? '');
    }
    const { count: counted } = await this.options.client.workflow.count(
      `${tenantJobs} AND ExecutionStatus = 'Running'`,
    );
    count.counted = counted;
    for (const [runId, at] of count.recent) {
      if (at < started - this.maxVisibilityLagMs) count.recent.delete(runId);
    }
    count.at = started;
  }
}
