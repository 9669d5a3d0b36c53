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
  /** How long a started run may take to show in visibility counts, ms. @defaultValue 1500 */
  visibilityLagMs?: number;
}

interface Count {
  /** Running jobs of the tenant as visibility counted them. */
  counted: number;
  /** When this replica admitted the runs that count may not include yet (visibility lags), ms since the epoch. */
  admitted: number[];
  at: number;
  refreshing?: Promise<void>;
}

/**
 * Per-tenant caps on jobs in flight (queued or running: a running `runJob` workflow). The count comes from
 * visibility (`Tenant = x AND ExecutionStatus = 'Running'`), refreshed at most every `cacheMs`, plus the runs this
 * replica admitted since: on one replica a burst cannot overshoot the cap (the check and the reservation happen in
 * one turn of the event loop, after the refresh every racer shares; a run admitted less than `visibilityLagMs` before
 * a count is added to it). Across replicas, each one's admissions reach
 * the others only through visibility, a second or so late: a burst spread over N replicas may overshoot by the
 * jobs the other N-1 admitted within one `cacheMs` plus the visibility lag. Jobs that end are released at the next
 * refresh, so the cap errs on the side of refusing for up to `cacheMs`.
 */
export class InFlightCaps {
  private readonly counts = new Map<string, Count>();
  private readonly cacheMs: number;
  private readonly visibilityLagMs: number;

  constructor(private readonly options: InFlightCapsOptions) {
    this.cacheMs = options.cacheMs ?? 2000;
    this.visibilityLagMs = options.visibilityLagMs ?? 1500;
  }

  /** The tenant's cap, or undefined: not capped. */
  capOf(tenant: string): number | undefined {
    return this.options.caps[tenant] ?? this.options.caps['*'];
  }

  /** Reserves a place for one new run of the tenant's, or throws a 429 naming the cap and the count. */
  async admit(tenant: string): Promise<void> {
    const cap = this.capOf(tenant);
    if (cap === undefined) return;
    const count = await this.fresh(tenant);
    const inFlight = count.counted + count.admitted.length;
    if (inFlight >= cap) throw new Errors.TooManyJobs(tenant, cap, inFlight);
    count.admitted.push(Date.now());
  }

  private async fresh(tenant: string): Promise<Count> {
    let count = this.counts.get(tenant);
    if (!count) {
      count = { counted: 0, admitted: [], at: -Infinity };
      this.counts.set(tenant, count);
    }
    if (Date.now() - count.at >= this.cacheMs) {
      count.refreshing ??= this.refresh(tenant, count).finally(() => {
        if (count) delete count.refreshing;
      });
      await count.refreshing;
    }
    return count;
  }

  private async refresh(tenant: string, count: Count): Promise<void> {
    const started = Date.now();
    const query = `${jobsQuery({ controlTaskQueue: this.options.controlTaskQueue, tenant })} AND ExecutionStatus = 'Running'`;
    const { count: counted } = await this.options.client.workflow.count(query);
    count.counted = counted;
    // Runs admitted shortly before the count, or while it was under way, may be missing from it: they stay counted
    // here until visibility has surely seen them (counted twice meanwhile: the cap errs on the side of refusing).
    count.admitted = count.admitted.filter((at) => at >= started - this.visibilityLagMs);
    count.at = started;
  }
}
