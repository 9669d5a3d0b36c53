import type { Cleanup, Proc } from '../procs.js';
import type { BenchClient, Metric, ProcessRole, SystemName, WorkloadName } from '../types.js';

/** What the harness gives a system to start on. */
export interface SystemContext {
  temporalAddress?: string;
  /** The Temporal server's Prometheus endpoint (the cost workload counts heartbeat calls there). */
  temporalMetricsUrl?: string;
  redisUrl?: string;
  postgresUrl?: string;
  /** Slots of the no-op worker: the highest concurrency measured, so the worker is never what limits it. */
  capacity: number;
  cleanup: Cleanup;
}

/** A system's server side, started by the harness: its processes, and what its driver needs to reach them. */
export interface RunningSystem {
  /** Processes whose peak RSS the memory workload reports; the driver process is the `client` unless given. */
  processes: Map<ProcessRole, Proc>;
  /** JSON handed to the driver's `createClient`. */
  driverConfig: Record<string, unknown>;
  /** A worker for the 10 ms jobs with one slot, started once they are queued. */
  startTickWorker(): Promise<Proc>;
  /** Workers for the backlog workload's jobs with `slots` slots in all, started once they are queued. */
  startBacklogWorker?: (slots: number) => Promise<Proc>;
  /**
   * A worker for the `batched` workload's two job types (`bench/jobs/batched.ts`), started before it and stopped
   * after it. Unset: the system does not run that workload.
   */
  startBatchWorker?(): Promise<Proc>;
  /** Figures the system measures itself, about the jobs since the last call; asked after each workload. */
  figures?(): Promise<{ metric: Metric; value: number }[]>;
  stop(): Promise<void>;
}

/**
 * One system under test. `start` runs in the harness; `createClient` runs in the system's driver process, so its
 * client libraries and connections weigh on that process only.
 */
export interface SystemDefinition {
  name: SystemName;
  /** Its settings as measured (durability, polling), printed with the results. */
  settings: string;
  /** The workloads it runs. @defaultValue all */
  workloads?: readonly WorkloadName[];
  start(context: SystemContext): Promise<RunningSystem>;
  createClient(config: Record<string, unknown>): Promise<BenchClient>;
}

/** Stops several processes at once. */
export async function stopAll(procs: Iterable<Proc>, graceMs?: number): Promise<void> {
  await Promise.all([...procs].map((proc) => proc.stop(graceMs)));
}
