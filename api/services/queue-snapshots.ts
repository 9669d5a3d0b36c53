import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import { describeJobQueue, type JobQueueState } from '../../jobs/job-queues.js';
import type { JobTypeCatalog } from './job-type-catalog.js';

export interface QueueSnapshotsOptions {
  client: Client;
  catalog: Pick<JobTypeCatalog, 'list'>;
  /** Types known besides the catalog's (the gateway's runners serve types no job may have been submitted for). */
  extraTypes?: () => readonly string[];
  /** Time between two refreshes, ms. Temporal caches task queue stats for about 5 s itself. @defaultValue 10000 */
  intervalMs?: number;
  /** Bound of one refresh, every type included, ms. @defaultValue 5000 */
  temporalTimeoutMs?: number;
  /** Task queue descriptions in flight at once. @defaultValue 4 */
  concurrency?: number;
  log: Pick<FastifyBaseLogger, 'warn'>;
}

export interface QueueSnapshot {
  /** When the figures were read (ms since the epoch); 0 before the first refresh. */
  at: number;
  queues: ReadonlyMap<string, JobQueueState>;
}

/**
 * Every known job type's queue figures, refreshed on a timer in the background. A Prometheus scrape (every
 * replica, every few seconds, from every scraper) reads the last snapshot and never calls Temporal: the cost on
 * Temporal is one describe per type per interval per replica, whoever scrapes.
 */
export class QueueSnapshots {
  private snapshot: QueueSnapshot = { at: 0, queues: new Map() };
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: QueueSnapshotsOptions) {}

  current(): QueueSnapshot {
    return this.snapshot;
  }

  /** Refreshes now, then every `intervalMs` until {@link QueueSnapshots.stop}. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    const tick = (): void => {
      void this.refresh().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.options.intervalMs ?? 10_000);
      });
    };
    // A placeholder so that a second start() before the first tick is a no-op.
    this.timer = setTimeout(() => undefined, 0);
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.refreshing;
  }

  /** One refresh (shared by concurrent callers). A failed refresh keeps the previous figures and is logged. */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async read(): Promise<void> {
    const { client, catalog, log } = this.options;
    try {
      await client.withDeadline(Date.now() + (this.options.temporalTimeoutMs ?? 5000), async () => {
        const types = new Set([...(await catalog.list()), ...(this.options.extraTypes?.() ?? [])]);
        const queues = new Map<string, JobQueueState>();
        const pending = [...types].sort();
        const lane = async (): Promise<void> => {
          for (let type = pending.shift(); type !== undefined; type = pending.shift()) {
            queues.set(type, await describeJobQueue(client, type));
          }
        };
        await Promise.all(Array.from({ length: this.options.concurrency ?? 4 }, lane));
        this.snapshot = { at: Date.now(), queues };
      });
    } catch (err) {
      log.warn({ err }, 'could not refresh the job queue figures for /metrics; keeping the previous ones');
    }
  }
}
