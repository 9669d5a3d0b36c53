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

/**
 * What a scenario needs beyond taking and finishing a job. An implementation that lacks one by design names it in
 * {@link WorkerImpl.lacks} with the reason; the scenarios that need it are then skipped with that reason in their
 * names, never silently.
 */
export type ConformanceFeature =
  /** A declared input schema that fails a job at once on bad input. */
  | 'input-schema'
  /** Checkpoints that a retry resumes from, and the attempt number in the handler's context. */
  | 'checkpoint'
  /** Artifacts stored from the handler, downloadable through the API. */
  | 'artifact'
  /** A cancel that reaches a synchronous (blocking) handler. */
  | 'sync-cancel';

export interface WorkerStartOptions {
  types: readonly ConformanceType[];
  /** The API the test serves, `http://127.0.0.1:<port>` (for runners that reach the queue over HTTP). */
  apiUrl: string;
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
  /** The worker id that jobs of `type` show (`workerId`): the identity, or that of the process serving `type`. */
  identityOf(type: ConformanceType): string;
  readonly process: GpuflowProcess;
  /** Sends a signal to the worker (and what it started). */
  kill(signal: NodeJS.Signals): void;
}

/**
 * One worker implementation under test: starts a worker process serving the conformance types and resolves once
 * it polls. Adding an implementation is one file in `impls/` plus its line in `impls/index.ts`.
 */
export interface WorkerImpl {
  readonly name: string;
  /** The conformance types it has handlers for (the shared worker of a run serves these). */
  readonly types: readonly ConformanceType[];
  /** Features it lacks by design, each with the reason that goes into the skipped scenario's name. */
  readonly lacks?: Partial<Record<ConformanceFeature, string>>;
  start(options: WorkerStartOptions): Promise<WorkerProcess>;
}

/** The WorkerProcess of a spawned process, once `ready` has matched a line of its output. */
export async function startedWorker(identity: string, process: GpuflowProcess, ready: RegExp): Promise<WorkerProcess> {
  await process.waitForLine(ready, 90_000);
  return {
    identity,
    identityOf: () => identity,
    process,
    kill(signal) {
      if (process.child.exitCode === null && process.child.signalCode === null) process.child.kill(signal);
    },
  };
}
