import { hostname } from 'node:os';
import type { DataConverter } from '@temporalio/common';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { jobTaskQueue } from '../protocol/task-queues.js';
import {
  createJobActivities,
  type JobActivities,
  type JobActivityDeps,
  type ReadyJob,
} from '../activities/execute-job.js';
import { checkBatchCapacity } from '../activities/batcher.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { JobDefinition } from '../sdk/define-job.js';
import { announceJobTypes, inputSchemasOf } from './job-type-announcer.js';
import type { JobWorkerMetrics } from './job-worker-metrics.js';

export interface JobWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  jobs: readonly JobDefinition[];
  /**
   * Jobs of each type this process runs at once. Temporal reserves a slot before it polls, so a full worker
   * takes no task it cannot start: the next job waits in the queue for any free worker instead. A batched type
   * needs at least its `batch.maxSize` (each item of a batch holds a slot); twice that lets the next batch fill
   * while one runs.
   * @defaultValue 1
   */
  capacity?: number;
  /** How long a drain (SIGTERM, SIGINT, `shutdown()`) lets running jobs finish before cancelling them, ms. @defaultValue 30000 */
  shutdownGraceMs?: number;
  /** The worker id shown in job views. @defaultValue `<hostname>-<pid>` */
  identity?: string;
  /**
   * How fresh running jobs' progress is, ms, for jobs whose policy does not say: changes are heartbeated at most
   * this often; a silent job renews its lease three times per lease. @defaultValue 1000
   */
  progressFreshnessMs?: number;
  /**
   * Scale to zero: after this long with no job running (counted from the start, or from the last job's end), the
   * worker shuts down by itself and `run()` resolves. Unset: never.
   */
  idleExitMs?: number;
  print?: (line: string) => void;
  /**
   * Where large inputs and outputs and artifacts live: the same store as the API's (`createBlobStore(env)`).
   * Unset: `ctx.artifact` throws and outputs always travel inline.
   */
  blobs?: BlobStore;
  /** Outputs whose JSON is larger go to `blobs`, by reference. @defaultValue 262144 (256 KiB) */
  payloadThresholdBytes?: number;
  /** Largest log of one attempt kept in `blobs`, bytes. @defaultValue 1048576 (1 MiB) */
  maxJobLogBytes?: number;
  /** Told of each progress report of a handler. */
  onProgress?: JobActivityDeps['onProgress'];
  /** Control task queue of the orchestrators, whose job type catalog learns this worker's types. @defaultValue 'gpuflow-control' */
  controlTaskQueue?: string;
  /** Records jobs running, capacity, attempt durations and lost leases (`--metrics-port`). */
  metrics?: JobWorkerMetrics;
  /** Payload codecs (encryption) of every client and worker of the deployment: the same on all of them. */
  dataConverter?: DataConverter;
}

export interface JobWorker {
  readonly identity: string;
  readonly types: readonly string[];
  /** Polls until shut down; rejects if any type's worker fails. */
  run(): Promise<void>;
  /** Stops polling and drains; idempotent. `run()` resolves when the drain is over. */
  shutdown(): void;
}

export function defaultWorkerIdentity(): string {
  return `${hostname()}-${process.pid}`;
}

/**
 * A job worker: runs every job type's `setup` once, then polls `jobs.<type>` for each type. It registers
 * activities only, so it needs no workflow bundle and never runs workflow code.
 */
export async function createJobWorker(options: JobWorkerOptions): Promise<JobWorker> {
  const identity = options.identity ?? defaultWorkerIdentity();
  checkBatchCapacity(options.jobs, options.capacity ?? 1);
  const ready = new Map<string, ReadyJob>();
  for (const definition of options.jobs) {
    ready.set(definition.type, { definition, resources: await definition.setup?.() });
  }
  const inner = createJobActivities({
    jobs: ready,
    workerId: identity,
    progressFreshnessMs: options.progressFreshnessMs,
    print: options.print,
    blobs: options.blobs,
    payloadThresholdBytes: options.payloadThresholdBytes,
    maxJobLogBytes: options.maxJobLogBytes,
    onProgress: options.onProgress,
  });
  const idle = idleWatch(options.idleExitMs, () => shutdown());
  const { metrics } = options;
  for (const type of ready.keys()) metrics?.serves(type, options.capacity ?? 1);
  const activities: JobActivities = {
    async executeJob(request) {
      idle.busy();
      try {
        return await (metrics
          ? metrics.attempt(request.type, () => inner.executeJob(request))
          : inner.executeJob(request));
      } finally {
        idle.free();
      }
    },
  };
  const workers = await Promise.all(
    [...ready.keys()].map((type) =>
      Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: jobTaskQueue(type),
        activities,
        identity,
        dataConverter: options.dataConverter,
        maxConcurrentActivityTaskExecutions: options.capacity ?? 1,
        shutdownGraceTime: options.shutdownGraceMs ?? 30_000,
        // The activity spaces its heartbeats itself (at the job's progress freshness, or a third of its lease):
        // the SDK's own throttle must not hold them longer than the shortest freshness a job may ask for.
        maxHeartbeatThrottleInterval: 100,
        defaultHeartbeatThrottleInterval: 100,
      }),
    ),
  );
  const { connection, namespace, controlTaskQueue, dataConverter } = options;
  const types = [...ready.keys()];
  const inputSchemas = inputSchemasOf(options.jobs.filter((job) => ready.has(job.type)));
  announceJobTypes({ connection, namespace, controlTaskQueue, types, inputSchemas, identity, dataConverter });

  let stopping = false;
  function shutdown(): void {
    if (stopping) return;
    stopping = true;
    idle.stop();
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  }
  return {
    identity,
    types: [...ready.keys()],
    async run() {
      idle.start();
      try {
        await Promise.all(
          workers.map((worker) =>
            worker.run().catch((err: unknown) => {
              shutdown();
              throw err;
            }),
          ),
        );
      } finally {
        stopping = true;
        idle.stop();
        // Results kept alongside their completions: on disk before the process may exit.
        await inner.keepsLanded();
      }
    },
    shutdown,
  };
}

/** Calls `onIdle` once no job has run for `idleMs`; `busy`/`free` bracket every job. */
function idleWatch(idleMs: number | undefined, onIdle: () => void) {
  let running = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    if (idleMs !== undefined && running === 0) timer = setTimeout(onIdle, idleMs);
  };
  return {
    start: arm,
    busy(): void {
      running += 1;
      clearTimeout(timer);
    },
    free(): void {
      running -= 1;
      arm();
    },
    stop(): void {
      clearTimeout(timer);
      timer = undefined;
      idleMs = undefined;
    },
  };
}
