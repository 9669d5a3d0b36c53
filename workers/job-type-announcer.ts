import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { JOB_TYPE_CATALOG_WORKFLOW, jobTypesSeenSignalWithStart } from '../contracts/job-types.js';
import { CONTROL_TASK_QUEUE } from '../protocol/task-queues.js';

export interface AnnounceJobTypesOptions {
  connection: NativeConnection;
  namespace: string;
  /** @defaultValue 'gpuflow-control' */
  controlTaskQueue?: string;
  types: readonly string[];
  identity: string;
  /** Bound of the signal, ms. @defaultValue 10000 */
  timeoutMs?: number;
  warn?: (line: string) => void;
  dataConverter?: DataConverter;
}

/**
 * Tells the job type catalog which types this worker serves, so operator views list a type as soon as a worker
 * for it starts, jobs or not. Best effort in the background: a failure is logged and the worker runs on.
 */
export function announceJobTypes(options: AnnounceJobTypesOptions): void {
  const { dataConverter } = options;
  const client = new Client({ connection: options.connection, namespace: options.namespace, dataConverter });
  const warn = options.warn ?? ((line: string) => console.warn(line));
  client
    .withDeadline(Date.now() + (options.timeoutMs ?? 10_000), () =>
      client.workflow.signalWithStart(
        JOB_TYPE_CATALOG_WORKFLOW,
        jobTypesSeenSignalWithStart(options.controlTaskQueue ?? CONTROL_TASK_QUEUE, options.types),
      ),
    )
    .catch((err: unknown) =>
      warn(`worker ${options.identity}: could not record its job types in the job type catalog: ${String(err)}`),
    );
}
