import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunnerCounts } from '../gateway/runners.js';
import type { QueueSnapshot } from './queue-snapshots.js';

/** Distinct job types given their own label value; the rest count as `other` (any type may be submitted). */
const MAX_TYPE_LABELS = 500;

/** What a submission turned out to be, for the counters by type. */
export interface SubmitOutcome {
  type: string;
  /** An existing job was returned. */
  deduplicated: boolean;
  /** An existing job was returned COMPLETED: its cached output answered the submit. */
  cacheHit: boolean;
}

export interface ApiMetricsOptions {
  /** The background queue figures (never a Temporal call at scrape time). */
  queues: () => QueueSnapshot;
  /** The gateway's HTTP runners of a type on this replica, when the gateway is on. */
  runners?: (type: string) => RunnerCounts;
}

/**
 * The API's Prometheus metrics, on a registry of its own (two apps in one process, as in tests, do not share
 * counters). Request latency is labelled by route template, never the raw URL, so job ids make no new series.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly types = new Set<string>();
  private readonly requests: Histogram<'method' | 'route' | 'status_code'>;
  private readonly submitted: Counter<'type'>;
  private readonly deduplicated: Counter<'type'>;
  private readonly cacheHits: Counter<'type'>;

  constructor(options: ApiMetricsOptions) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Histogram({
      name: 'gpuflow_http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status code, and how long they took to answer',
      labelNames: ['method', 'route', 'status_code'],
      // Long waits (?wait, SSE streams) end in the top buckets.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.submitted = new Counter({
      name: 'gpuflow_jobs_submitted_total',
      help: 'Accepted job submissions by type, new and deduplicated',
      labelNames: ['type'],
      registers,
    });
    this.deduplicated = new Counter({
      name: 'gpuflow_jobs_deduplicated_total',
      help: 'Submissions answered with an existing job, by type',
      labelNames: ['type'],
      registers,
    });
    this.cacheHits = new Counter({
      name: 'gpuflow_job_cache_hits_total',
      help: 'Submissions answered with the cached output of a COMPLETED job, by type',
      labelNames: ['type'],
      registers,
    });
    const eachQueue = (
      gauge: Gauge<'type'>,
      value: (state: NonNullable<ReturnType<QueueSnapshot['queues']['get']>>) => number,
    ) => {
      gauge.reset();
      for (const [type, state] of options.queues().queues) gauge.set({ type }, value(state));
    };
    new Gauge({
      name: 'gpuflow_queue_backlog',
      help: "Jobs waiting in a type's task queue for a worker (Temporal's approximate backlog count)",
      labelNames: ['type'],
      registers,
      collect() {
        eachQueue(this, (state) => state.backlogCount);
      },
    });
    new Gauge({
      name: 'gpuflow_queue_backlog_age_seconds',
      help: "Age of the oldest job waiting in a type's task queue",
      labelNames: ['type'],
      registers,
      collect() {
        eachQueue(this, (state) => state.backlogAgeMs / 1000);
      },
    });
    new Gauge({
      name: 'gpuflow_queue_workers',
      help: 'Workers of a type: Temporal pollers of its task queue (source=temporal), HTTP runners on this replica (source=gateway)',
      labelNames: ['type', 'source'],
      registers,
      collect() {
        this.reset();
        for (const [type, state] of options.queues().queues) {
          this.set({ type, source: 'temporal' }, state.workers.length);
          if (options.runners) {
            const { idle, running } = options.runners(type);
            this.set({ type, source: 'gateway' }, idle + running);
          }
        }
      },
    });
    new Gauge({
      name: 'gpuflow_queue_figures_age_seconds',
      help: 'How old the queue figures above are (they are read from Temporal in the background); -1 before the first read',
      registers,
      collect() {
        const { at } = options.queues();
        this.set(at === 0 ? -1 : (Date.now() - at) / 1000);
      },
    });
  }

  request(method: string, route: string, statusCode: number, seconds: number): void {
    this.requests.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  submit(outcome: SubmitOutcome): void {
    const type = this.typeLabel(outcome.type);
    this.submitted.inc({ type });
    if (outcome.deduplicated) this.deduplicated.inc({ type });
    if (outcome.cacheHit) this.cacheHits.inc({ type });
  }

  private typeLabel(type: string): string {
    if (this.types.has(type)) return type;
    if (this.types.size >= MAX_TYPE_LABELS) return 'other';
    this.types.add(type);
    return type;
  }
}
