/** Shapes shared by the harness (parent process) and the drivers (one child process per system). */

/** `gpuflow-python` and `gpuflow-runpod-gateway`: the same gpuflow stack with other job workers. */
export const SYSTEMS = ['gpuflow', 'gpuflow-python', 'gpuflow-runpod-gateway', 'temporal', 'bullmq', 'pgboss'] as const;
export type SystemName = (typeof SYSTEMS)[number];

export const WORKLOADS = [
  'latency',
  'throughput',
  'dispatch-gap',
  'dedup',
  'status',
  'memory',
  'cost',
  'backlog',
  'batched',
] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export type Metric =
  | 'p50_ms'
  | 'p95_ms'
  | 'p99_ms'
  | 'jobs_per_s'
  | 'req_per_s'
  | 'gap_ms'
  | 'rss_mb'
  /** `batched` workload: the mean number of jobs per handler call, as the jobs' outputs report it. */
  | 'batch_size'
  /** The RunPod gateway's own time per job (hand-out plus done), and each part, from the API's clock. */
  | 'gateway_p50_ms'
  | 'gateway_p95_ms'
  | 'gateway_handout_p50_ms'
  | 'gateway_done_p50_ms'
  /** The backlog workload: submissions while no worker runs, the drain once workers start, and the probes. */
  | 'submit_jobs_per_s'
  | 'drain_jobs_per_s'
  | 'submit_p50_ms'
  | 'get_p50_ms'
  | 'stats_p50_ms'
  | 'queues_p50_ms'
  /** Cost workload: counted from one job's history and the server's heartbeat calls (bench/cost.ts). */
  | 'history_events'
  | 'workflow_tasks'
  | 'signals'
  | 'sa_upserts'
  | 'memo_upserts'
  | 'heartbeats'
  | 'actions';

/** The jobs the cost workload counts: a no-op, and one that runs N s reporting progress every second. */
export type CostJob = 'noop' | `progress-${number}s`;

/** Which process a memory figure is about: `client` is gpuflow's API process and the peers' producer process. */
export type ProcessRole = 'client' | 'worker' | 'orchestrator';

/** One figure of one run: the rows of `bench/results/<timestamp>.json`. */
export interface ResultRow {
  workload: WorkloadName;
  system: SystemName;
  metric: Metric;
  concurrency: number | null;
  value: number;
  /** Memory rows only. */
  process?: ProcessRole;
  /** Backlog rows only: jobs queued with no worker when the figure was taken (0: near idle). */
  queued?: number;
  /** Cost rows only: which job. */
  job?: CostJob;
  /** `batched` rows only: the job type declared a batch, or the same handler ran one job per call. */
  variant?: BatchVariant;
}

export type BatchVariant = 'batched' | 'unbatched';

/** A 10 ms job's own start and end (epoch ms with sub-ms precision), as its handler measured them. */
export interface TickTimes {
  startMs: number;
  endMs: number;
}

/** What a driver does for the harness: the client side of one system. */
export interface BenchClient {
  /** Submits one no-op job and resolves once its result is known. */
  runNoop(): Promise<void>;
  /** Queues one 10 ms job without waiting for it; resolves with what `waitTick` needs. */
  enqueueTick(): Promise<string>;
  waitTick(key: string): Promise<TickTimes>;
  /** Submits one job of `type` (the `batched` workload's types) and resolves with its output once completed. */
  run?(type: string): Promise<unknown>;
  /** Duplicate submission of a completed job (the cache hit); `prepare` makes and completes that job. */
  dedup?: { prepare(): Promise<void>; hit(): Promise<void> };
  /** Status read of a completed job. */
  status?: { prepare(): Promise<void>; read(): Promise<void> };
  backlog?: BacklogClient;
  /** Cost workload: each runs one job to its end and resolves with its workflow id. */
  cost?: { noop(): Promise<string>; progress(seconds: number): Promise<string> };
  close(): Promise<void>;
}

/** The backlog workload's calls: jobs of a type whose workers start only once the backlog is queued. */
export interface BacklogClient {
  /** Queues one job; resolves with what `get` and `wait` need. */
  submit(): Promise<string>;
  /** One read of a (queued) job's status. */
  get(key: string): Promise<void>;
  /** Job counts by status (gpuflow's `/v1/stats`; raw Temporal: a visibility count by execution status). */
  stats(): Promise<void>;
  /** The queues' state (gpuflow's `/v1/queues`; raw Temporal: a task queue description with its stats). */
  queues(): Promise<void>;
  /** Jobs waiting for a worker, as the queue's description shows them (approximate). */
  backlogCount(): Promise<number>;
  /** Resolves once the job has completed, with its handler's end (epoch ms). */
  wait(key: string): Promise<number>;
}

/** Messages from the harness to a driver, and its answers. */
export type DriverRequest =
  | { id: number; op: 'latency'; n: number; reps: number; warmup: number }
  | { id: number; op: 'throughput'; n: number; reps: number; concurrency: number }
  | { id: number; op: 'dedup' | 'status'; n: number; reps: number; concurrency: number }
  | { id: number; op: 'cost'; temporalAddress: string; metricsUrl: string; progressSeconds: number }
  | { id: number; op: 'batched'; type: string; n: number; reps: number; concurrency: number }
  | { id: number; op: 'enqueue-ticks'; n: number }
  | { id: number; op: 'wait-ticks'; keys: string[] }
  | { id: number; op: 'backlog-probe'; n: number }
  | { id: number; op: 'backlog-submit'; n: number; concurrency: number }
  | { id: number; op: 'backlog-settle'; expected: number; timeoutMs: number }
  | { id: number; op: 'backlog-drain'; keys: string[]; concurrency: number }
  | { id: number; op: 'close' };
export type DriverResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
