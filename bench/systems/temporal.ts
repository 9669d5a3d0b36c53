import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { PAYLOAD } from '../jobs/work.js';
import { startTsProc, type Proc } from '../procs.js';
import type { BenchClient, ProcessRole, TickTimes } from '../types.js';
import { TEMPORAL_QUEUES } from '../workers/temporal-queues.js';
import { stopAll, type SystemDefinition } from './system.js';

const WORKER = 'bench/workers/temporal-worker.ts';

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
      stop: () => stopAll(processes.values()),
    };
  },

  async createClient(config) {
    const connection = await Connection.connect({ address: String(config.address) });
    const client = new Client({ connection, namespace: 'default' });
    const start = (workflow: 'benchNoop' | 'benchTick') =>
      client.workflow.start(workflow, { taskQueue: TEMPORAL_QUEUES.main, workflowId: randomUUID(), args: [PAYLOAD] });
    let cachedId = '';
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
