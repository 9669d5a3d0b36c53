import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { PAYLOAD } from '../jobs/work.js';
import { startTsProc, type Proc } from '../procs.js';
import type { BenchClient, ProcessRole, TickTimes } from '../types.js';
import { TEMPORAL_QUEUES } from '../workers/temporal-queues.js';
import { stopAll, type SystemDefinition } from './system.js';

const WORKER = 'bench/workers/temporal-worker.ts';
// A CommonJS package: Node's ESM loader only sees its default export.
const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

/** Raw Temporal: a one-activity workflow, the same server, one worker process and one client process. */
export const temporal: SystemDefinition = {
  name: 'temporal',
  settings: 'Temporal SDK defaults (default activity retry policy, no heartbeats) on the same dev server',

  async start(context) {
    if (!context.temporalAddress) throw new Error('temporal needs a Temporal server');
    const env = { TEMPORAL_ADDRESS: context.temporalAddress };
    const workerProc = (name: string, args: string[]): Proc => {
      const proc = startTsProc(`temporal ${name}`, WORKER, args, env);
      context.cleanup.add(`temporal ${name}`, () => proc.stop());
      return proc;
    };
    const worker = workerProc('worker', ['main', String(context.capacity)]);
    const processes = new Map<ProcessRole, Proc>([['worker', worker]]);
    return {
      processes,
      driverConfig: { address: context.temporalAddress },
      async startTickWorker() {
        return workerProc('tick worker', ['tick', '1']);
      },
      async startBacklogWorker(slots) {
        return workerProc('backlog worker', ['backlog', String(slots)]);
      },
      stop: () => stopAll(processes.values()),
    };
  },

  async createClient(config) {
    const connection = await Connection.connect({ address: String(config.address) });
    const client = new Client({ connection, namespace: 'default' });
    const start = (workflow: 'benchNoop' | 'benchTick' | 'benchBacklog') =>
      client.workflow.start(workflow, { taskQueue: TEMPORAL_QUEUES.main, workflowId: randomUUID(), args: [PAYLOAD] });
    let cachedId = '';
    const describeBacklogQueue = () =>
      client.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: TEMPORAL_QUEUES.backlog, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        reportStats: true,
      });
    return {
      async runNoop() {
        await (await start('benchNoop')).result();
      },
      async enqueueTick() {
        return (await start('benchTick')).workflowId;
      },
      async waitTick(id) {
        return (await client.workflow.getHandle(id).result()) as TickTimes;
      },
      status: {
        async prepare() {
          const handle = await start('benchNoop');
          await handle.result();
          cachedId = handle.workflowId;
        },
        async read() {
          const description = await client.workflow.getHandle(cachedId).describe();
          if (description.status.name !== 'COMPLETED') throw new Error(`status: ${description.status.name}`);
        },
      },
      backlog: {
        async submit() {
          return (await start('benchBacklog')).workflowId;
        },
        async get(id) {
          await client.workflow.getHandle(id).describe();
        },
        async stats() {
          await client.workflow.count(`WorkflowType = 'benchBacklog' GROUP BY ExecutionStatus`);
        },
        async queues() {
          await describeBacklogQueue();
        },
        async backlogCount() {
          return Number((await describeBacklogQueue()).stats?.approximateBacklogCount ?? 0);
        },
        async wait(id) {
          return ((await client.workflow.getHandle(id).result()) as { endMs: number }).endMs;
        },
      },
      cost: {
        async noop() {
          const handle = await start('benchNoop');
          await handle.result();
          return handle.workflowId;
        },
        async progress(seconds) {
          const handle = await client.workflow.start('benchProgress', {
            taskQueue: TEMPORAL_QUEUES.main,
            workflowId: randomUUID(),
            args: [seconds],
          });
          await handle.result();
          return handle.workflowId;
        },
      },
      async close() {
        await connection.close();
      },
    } satisfies BenchClient;
  },
};
