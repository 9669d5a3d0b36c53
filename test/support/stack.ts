import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { inject } from 'vitest';
import { buildApp, type AppDeps } from '../../api/app.js';
import type { ApiKey } from '../../config/env.js';
import { createJobWorker, type JobWorker, type JobWorkerOptions } from '../../workers/job-worker.js';
import { createOrchestrator } from '../../workers/orchestrator.js';
import { defineJob, type JobDefinition } from '../../sdk/define-job.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { DirectoryBlobStore } from '../../storage/directory-blob-store.js';

export const NAMESPACE = 'default';

// The SDK logs every worker state change at INFO; tests want errors only (failed jobs are expected here). Once per test process.
Runtime.install({ logger: new DefaultLogger('ERROR') });

/** A short random suffix that keeps job types, task queues and ids of one test apart from every other's. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

/** The same job under a type of its own (`<type>-<suffix>`), so its task queue is this test's alone. */
export function withSuffix<T extends JobDefinition>(job: T, suffix: string): T {
  return defineJob({ ...job, type: `${job.type}-${suffix}` }) as unknown as T;
}

/** Signs the test stacks' webhooks (Standard Webhooks format: `whsec_` and base64 of 32 bytes). */
export const TEST_WEBHOOK_SECRET = `whsec_${Buffer.from('gpuflow-test-webhook-secret-0001').toString('base64')}`;

/** Webhook settings of a test stack: the test secret, and receivers on this machine allowed. */
const TEST_WEBHOOKS = { secret: TEST_WEBHOOK_SECRET, allowPrivate: ['127.0.0.0/8', '::1/128', 'localhost'] };

export interface TestStack {
  app: FastifyInstance;
  client: Client;
  connection: NativeConnection;
  controlTaskQueue: string;
  /** The blob store the API and the job workers share. */
  blobs: BlobStore;
  /** Starts a job worker serving `jobs`; it is shut down by `stop()` unless stopped before. */
  startJobWorker(options: Omit<JobWorkerOptions, 'connection' | 'namespace'>): Promise<RunningJobWorker>;
  stop(): Promise<void>;
}

export interface RunningJobWorker {
  worker: JobWorker;
  /** Drains the worker and waits until it has stopped. */
  stop(): Promise<void>;
}

/**
 * The whole gpuflow stack in this test process against the shared dev server: an orchestrator on a task queue of
 * this stack's own, the API (driven with `app.inject()`), and job workers on demand.
 */
export async function startStack(
  options: {
    apiKeys?: ApiKey[];
    controlTaskQueue?: string;
    address?: string;
    /** The orchestrator's workflow bundle. @defaultValue the one vitest's globalSetup built */
    workflowBundlePath?: string;
    webhooks?: { secret: string; allowPrivate: string[] };
    /** @defaultValue a directory store in a temporary directory, removed by `stop()` */
    blobs?: BlobStore;
    payloadThresholdBytes?: number;
    /** Serve the RunPod worker gateway; `holdMs` bounds its long-polls. */
    gateway?: { holdMs?: number; onTiming?: (timing: { id: string; handOutMs: number; doneMs: number }) => void };
    /** Codecs (encryption) of the API's client, the orchestrator and the job workers. */
    dataConverter?: DataConverter;
    codecCorsOrigins?: string[];
    /** Limits, caps, the route hook and the Runpack face of the API, as given. */
    api?: Pick<
      AppDeps,
      | 'rateLimits'
      | 'maxJobsInFlight'
      | 'inFlightCacheMs'
      | 'onRoute'
      | 'workerHeartbeatIntervalMs'
      | 'inputSchemasRefreshMs'
      | 'temporalUiUrl'
      | 'runpack'
    >;
  } = {},
): Promise<TestStack> {
  const blobDir = options.blobs ? undefined : mkdtempSync(join(tmpdir(), 'gpuflow-blobs-'));
  const blobs = options.blobs ?? new DirectoryBlobStore(blobDir!);
  const { payloadThresholdBytes, dataConverter } = options;
  const address = options.address ?? inject('temporalAddress');
  const controlTaskQueue = options.controlTaskQueue ?? `gpuflow-control-${uniqueSuffix()}`;
  const connection = await NativeConnection.connect({ address });
  const client = new Client({
    connection: await Connection.connect({ address }),
    namespace: NAMESPACE,
    dataConverter,
  });
  // Made when the first runner polls, as the API process makes it (api/server.ts).
  let gatewayConnection: Promise<NativeConnection> | undefined;
  const connectGateway = (): Promise<NativeConnection> => (gatewayConnection ??= NativeConnection.connect({ address }));
  const orchestrator: Worker = await createOrchestrator({
    connection,
    namespace: NAMESPACE,
    taskQueue: controlTaskQueue,
    workflowBundle: { codePath: options.workflowBundlePath ?? inject('workflowBundlePath') },
    webhooks: options.webhooks ?? TEST_WEBHOOKS,
    blobs,
    dataConverter,
  });
  const orchestratorRun = orchestrator.run();
  const { allowPrivate } = options.webhooks ?? TEST_WEBHOOKS;
  const app = await buildApp({
    client,
    namespace: NAMESPACE,
    controlTaskQueue,
    apiKeys: options.apiKeys,
    webhooks: { allowPrivate },
    blobs,
    payloadThresholdBytes,
    codecCorsOrigins: options.codecCorsOrigins,
    ...options.api,
    // A connection of its own, as in the API process: Core refuses two workers of one task queue on one client,
    // and the tests run native workers of the same types in this process.
    ...(options.gateway ? { gateway: { connection: connectGateway, dataConverter, ...options.gateway } } : {}),
  });
  const jobWorkers = new Set<RunningJobWorker>();

  return {
    app,
    client,
    connection,
    controlTaskQueue,
    blobs,
    async startJobWorker(workerOptions) {
      const worker = await createJobWorker({
        connection,
        namespace: NAMESPACE,
        controlTaskQueue,
        shutdownGraceMs: 5000,
        blobs,
        payloadThresholdBytes,
        dataConverter,
        ...workerOptions,
      });
      const run = worker.run();
      const running: RunningJobWorker = {
        worker,
        async stop() {
          worker.shutdown();
          await run;
          jobWorkers.delete(running);
        },
      };
      jobWorkers.add(running);
      return running;
    },
    async stop() {
      await Promise.all([...jobWorkers].map((running) => running.stop()));
      orchestrator.shutdown();
      await orchestratorRun;
      await app.close();
      await client.connection.close();
      await (await gatewayConnection)?.close();
      await connection.close();
      if (blobDir) rmSync(blobDir, { recursive: true, force: true });
    },
  };
}

/** Polls `read` until `done` holds, or fails with the last value seen. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await read();
    if (done(last)) return last;
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  } while (Date.now() < deadline);
  throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
}
