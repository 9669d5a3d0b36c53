import type { GpuflowProcess } from '../support/processes.js';

/** The job types every implementation serves, with handlers of the same behaviour in `handlers/`. */
export const CONFORMANCE_TYPES = [
  'conf-sleep',
  'conf-spin',
  'conf-fail',
  'conf-echo',
  'conf-stream',
  'conf-artifact',
] as const;
export type ConformanceType = (typeof CONFORMANCE_TYPES)[number];

/**
 * Handlers name their types `<base>-<CONF_TYPE_SUFFIX>` (the suffix comes in `env`), so that each worker a test
 * starts polls task queues of its own.
 */
export const TYPE_SUFFIX_VAR = 'CONF_TYPE_SUFFIX';

export interface WorkerStartOptions {
  types: readonly ConformanceType[];
  /** Jobs of each type run at once. */
  capacity: number;
  identity: string;
  /** Added to the process environment: Temporal address, blob store, `CONF_TYPE_SUFFIX`. */
  env: Record<string, string>;
  /** Seconds a drain gives running jobs. @defaultValue 30 */
  graceSeconds?: number;
}

export interface WorkerProcess {
  readonly identity: string;
  readonly process: GpuflowProcess;
  /** Sends a signal to the worker (and what it started). */
  kill(signal: NodeJS.Signals): void;
}

/**
 * One worker implementation under test: starts a worker process serving the conformance types and resolves once
 * it polls. Adding an implementation (a RunPod gateway with an HTTP runner, say) is one file in `impls/` plus its
 * line in `impls/index.ts`.
 */
export interface WorkerImpl {
  readonly name: string;
  start(options: WorkerStartOptions): Promise<WorkerProcess>;
}

/** The WorkerProcess of a spawned process, once `ready` has matched a line of its output. */
export async function startedWorker(identity: string, process: GpuflowProcess, ready: RegExp): Promise<WorkerProcess> {
  await process.waitForLine(ready, 90_000);
  return {
    identity,
    process,
    kill(signal) {
      if (process.child.exitCode === null && process.child.signalCode === null) process.child.kill(signal);
    },
  };
}
