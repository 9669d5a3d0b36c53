import { fileURLToPath } from 'node:url';
import { heartbeat } from '@temporalio/activity';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { noop, reportProgress, stamp, tick } from '../jobs/work.js';
import { TEMPORAL_QUEUES } from './temporal-queues.js';

export function createBenchActivities() {
  return {
    noop: async (_payload: { data: string }) => noop(),
    tick: async (_payload: { data: string }) => tick(),
    stamp: async (_payload: { data: string }) => stamp(),
    progress: async (seconds: number) => reportProgress(seconds, (percent) => heartbeat(percent)),
  };
}

/**
 * The raw Temporal peer's worker process, as the SDK samples write one. `main`: the workflows and the no-op
 * activity (`capacity` activity slots); `tick` and `backlog`: the activities of that queue only, with `capacity`
 * slots.
 */
async function main(): Promise<void> {
  const [mode, capacityArg] = process.argv.slice(2);
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: mode === 'tick' || mode === 'backlog' ? TEMPORAL_QUEUES[mode] : TEMPORAL_QUEUES.main,
    activities: createBenchActivities(),
    ...(mode === 'tick' || mode === 'backlog'
      ? {}
      : { workflowsPath: fileURLToPath(new URL('./temporal-workflows.ts', import.meta.url)) }),
    maxConcurrentActivityTaskExecutions: Number(capacityArg ?? 1),
    shutdownGraceTime: '1s',
  });
  await worker.run();
  await connection.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`temporal-worker: ${String(err)}\n`);
    process.exit(1);
  });
}
