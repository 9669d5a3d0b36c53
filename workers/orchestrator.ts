import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import {
  bundleWorkflowCode,
  type NativeConnection,
  Worker,
  type WorkflowBundle,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { JobReader } from '../jobs/job-reader.js';
import { compileOwnTypeScript } from './bundle-config.js';
import { createWebhookActivities } from '../activities/deliver-webhook.js';
import { CONTROL_TASK_QUEUE } from '../protocol/task-queues.js';
import type { BlobStore } from '../storage/blob-store.js';

const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Bundles the workflow code once; pass the result to every orchestrator a process creates. */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: quietBundlerLogger,
    webpackConfigHook: compileOwnTypeScript,
  });
}

export interface OrchestratorOptions {
  connection: NativeConnection;
  namespace: string;
  workflowBundle: WorkflowBundleOption;
  /** @defaultValue 'gpuflow-control' */
  taskQueue?: string;
  identity?: string;
  /** Webhook delivery: the signing secret (without it, deliveries fail at once) and the private allow list. */
  webhooks?: { secret?: string; allowPrivate?: readonly string[] };
  /** The job workers' blob store: a webhook's view carries a large output read back from it. */
  blobs?: BlobStore;
  /** Payload codecs (encryption) of every client and worker of the deployment: the same on all of them. */
  dataConverter?: DataConverter;
}

/**
 * The worker that runs `runJob` workflows and light activities: webhook delivery, which renders the job's view
 * through the read model (jobs/), as the API does. No job code here.
 */
export async function createOrchestrator(options: OrchestratorOptions): Promise<Worker> {
  const taskQueue = options.taskQueue ?? CONTROL_TASK_QUEUE;
  const { dataConverter } = options;
  const client = new Client({ connection: options.connection, namespace: options.namespace, dataConverter });
  const jobs = new JobReader({ client, blobs: options.blobs });
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue,
    workflowBundle: options.workflowBundle,
    dataConverter,
    activities: createWebhookActivities({
      client,
      viewOf: (jobId, runId) => jobs.viewOfRun(jobId, runId),
      ...options.webhooks,
    }),
    ...(options.identity ? { identity: options.identity } : {}),
  });
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};
