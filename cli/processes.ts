import { encryptionKeysOf, logFormatOf, type Env } from '../config/env.js';
import { encryptionDataConverter } from '../storage/encryption-codec.js';
import { createBlobStore } from '../storage/create-blob-store.js';
import { createJobWorker } from '../workers/job-worker.js';
import { checkBatchCapacity } from '../activities/batcher.js';
import { JobWorkerMetrics, serveMetrics } from '../workers/job-worker-metrics.js';
import { loadJobModules } from '../workers/load-job-modules.js';
import { bundleWorkflows, createOrchestrator } from '../workers/orchestrator.js';
import { ensureSearchAttributes } from '../workers/search-attributes.js';
import { connectWithBackoff } from './connect-temporal.js';
import { installStrayErrorHandler } from '../activities/stray-errors.js';
import { EXIT } from './exit-codes.js';
import { progressPrinter } from './pretty-log.js';
import { stopWhenOutputCloses } from './parent-watch.js';
import { installWorkerRuntime, onShutdownSignal } from './runtime.js';

/**
 * Process entries of the two kinds of worker. SIGINT and SIGTERM start a drain of every worker in the process
 * (running jobs get the grace period); `run()` resolves when the drain is over, and the process exits.
 */
export async function runOrchestrator(env: Env): Promise<void> {
  stopWhenOutputCloses();
  installWorkerRuntime(env);
  const workflowBundle = await bundleWorkflows();
  const connection = await connectWithBackoff(env, { who: 'orchestrator' });
  try {
    try {
      const added = await ensureSearchAttributes(connection, env.TEMPORAL_NAMESPACE);
      if (added.length > 0) console.log(`orchestrator: registered search attributes ${added.join(', ')}`);
    } catch (err) {
      console.warn(
        `orchestrator: could not check or register the search attributes JobType and JobStatus (Keyword): ${String(err)}. ` +
          'Register them on the namespace yourself (on Temporal Cloud: tcld namespace search-attributes add).',
      );
    }
    const worker = await createOrchestrator({
      connection,
      namespace: env.TEMPORAL_NAMESPACE,
      workflowBundle,
      webhooks: { secret: env.GPUFLOW_WEBHOOK_SECRET, allowPrivate: env.GPUFLOW_WEBHOOK_ALLOW_PRIVATE },
      blobs: await createBlobStore(env),
      dataConverter: encryptionDataConverter(encryptionKeysOf(env)),
    });
    onShutdownSignal(() => worker.shutdown());
    console.log(`orchestrator: running job workflows on ${env.TEMPORAL_ADDRESS} (${env.TEMPORAL_NAMESPACE})`);
    if (!env.GPUFLOW_WEBHOOK_SECRET) {
      console.log('orchestrator: webhooks off (no GPUFLOW_WEBHOOK_SECRET): any delivery fails unsent');
    }
    await worker.run();
  } finally {
    await connection.close();
  }
}

export interface JobWorkerProcessOptions {
  modules: string[];
  capacity: number;
  grace: number;
  idleExit?: number;
  identity?: string;
  /** Seconds: running jobs' changes are heartbeated at most this often. @defaultValue 1 */
  progressFreshness?: number;
  /** The worker's own `/metrics` port; unset: no metrics served. */
  metricsPort?: number;
  /** The Temporal SDK's Prometheus port. @defaultValue metricsPort + 1 */
  sdkMetricsPort?: number;
  /** @defaultValue '0.0.0.0' */
  metricsHost?: string;
}

export async function runJobWorkerProcess(env: Env, options: JobWorkerProcessOptions): Promise<void> {
  const host = options.metricsHost ?? '0.0.0.0';
  const sdkPort = options.sdkMetricsPort ?? (options.metricsPort === undefined ? undefined : options.metricsPort + 1);
  // Before the stray-error handler: a write to a closed stdout or stderr must never reach it (see the function).
  stopWhenOutputCloses();
  installWorkerRuntime(
    env,
    sdkPort === undefined ? undefined : `${host.includes(':') ? `[${host}]` : host}:${sdkPort}`,
  );
  // Set once the worker runs: an error no job owns then drains it; before that, it ends the process at once.
  let drain: (() => void) | undefined;
  installStrayErrorHandler({
    print: (line) => console.error(line),
    onUnattributed: () => {
      process.exitCode = EXIT.failed;
      if (!drain) process.exit(EXIT.failed);
      console.error('worker: draining, then exiting non-zero so that its supervisor starts a fresh worker');
      drain();
    },
  });
  const jobs = await loadJobModules(options.modules);
  // Before connecting: a capacity that can never fill a batch is the user's to fix, not a server's to refuse.
  checkBatchCapacity(jobs, options.capacity);
  const metrics = options.metricsPort === undefined ? undefined : new JobWorkerMetrics();
  const served = metrics && (await serveMetrics(metrics.registry, options.metricsPort ?? 0, host));
  const connection = await connectWithBackoff(env, { who: 'worker' });
  try {
    const worker = await createJobWorker({
      connection,
      namespace: env.TEMPORAL_NAMESPACE,
      jobs,
      capacity: options.capacity,
      shutdownGraceMs: options.grace * 1000,
      blobs: await createBlobStore(env),
      payloadThresholdBytes: env.GPUFLOW_PAYLOAD_THRESHOLD_BYTES,
      maxJobLogBytes: env.GPUFLOW_MAX_JOB_LOG_BYTES,
      ...(logFormatOf(env) === 'pretty' ? { onProgress: progressPrinter((line) => console.log(line)) } : {}),
      dataConverter: encryptionDataConverter(encryptionKeysOf(env)),
      metrics,
      ...(options.idleExit !== undefined ? { idleExitMs: options.idleExit * 1000 } : {}),
      ...(options.identity ? { identity: options.identity } : {}),
      // At least the 100 ms the SDK's own heartbeat throttle holds.
      progressFreshnessMs: Math.max(100, Math.round((options.progressFreshness ?? 1) * 1000)),
    });
    drain = () => worker.shutdown();
    onShutdownSignal((signal) => {
      console.log(`worker ${worker.identity}: ${signal}, draining (running jobs get ${options.grace} s to finish)`);
      worker.shutdown();
    });
    console.log(
      `worker ${worker.identity}: serving ${worker.types.join(', ')} (capacity ${options.capacity} per type) on ${env.TEMPORAL_ADDRESS}` +
        (options.idleExit !== undefined ? `; exits after ${options.idleExit} s without a job` : ''),
    );
    if (served) {
      console.log(
        `worker ${worker.identity}: metrics on http://${host}:${served.port}/metrics, SDK metrics on port ${sdkPort}`,
      );
    }
    await worker.run();
    console.log(`worker ${worker.identity}: drained, exiting`);
  } finally {
    await served?.close();
    await connection.close();
  }
}
