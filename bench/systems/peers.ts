import { startTsProc, type Proc } from '../procs.js';
import type { ProcessRole } from '../types.js';
import { stopAll, type RunningSystem, type SystemContext } from './system.js';

/** The server side of a queue whose broker the harness runs: a worker process for no-op jobs, one for 10 ms jobs. */
export function startPeerWorkers(
  name: string,
  script: string,
  context: SystemContext,
  env: NodeJS.ProcessEnv,
  driverConfig: Record<string, unknown>,
): RunningSystem {
  const workerProc = (label: string, args: string[]): Proc => {
    const proc = startTsProc(`${name} ${label}`, script, args, env);
    context.cleanup.add(`${name} ${label}`, () => proc.stop());
    return proc;
  };
  const processes = new Map<ProcessRole, Proc>([['worker', workerProc('worker', ['noop', String(context.capacity)])]]);
  return {
    processes,
    driverConfig,
    async startTickWorker() {
      return workerProc('tick worker', ['tick', '1']);
    },
    stop: () => stopAll(processes.values()),
  };
}
