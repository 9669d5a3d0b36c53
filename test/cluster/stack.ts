import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../scripts/temporal-dev-server.js';
import { runGpuflow, type GpuflowProcess } from '../support/processes.js';

/** The demo jobs every worker of the cluster test serves. */
const JOB_MODULES = ['examples/jobs/echo.ts', 'examples/jobs/sleep.ts', 'examples/jobs/tokens.ts'];

export interface ClusterStack {
  /** Base URLs of the two API replicas, `http://127.0.0.1:<port>`. */
  apiA: string;
  apiB: string;
  processes: Map<string, GpuflowProcess>;
  /** SIGKILLs one process (`api-a`, `worker-1`, ...) and waits until it is gone. */
  kill(name: string): Promise<void>;
  /** SIGTERM to every process still running (SIGKILL after 15 s), then removes the shared data dir. */
  stop(): Promise<void>;
}

async function ready(url: string, process: GpuflowProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process.child.exitCode !== null) break;
    const ok = await fetch(`${url}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await sleep(250);
  }
  throw new Error(`API ${url} not ready within ${timeoutMs} ms:\n${process.output.slice(-30).join('\n')}`);
}

/**
 * gpuflow as separate processes against the cluster, as an operator deploys it: one orchestrator, two API
 * replicas, two job workers (`worker-1`, `worker-2`, capacity 2 per type). Each is `gpuflow <command>` from the
 * bin, tied to this process (GPUFLOW_DEV_CHILD: a stdin pipe) so that none outlives the test run. They share a
 * directory blob store, as processes on one host do (across hosts that is S3).
 */
export async function startClusterStack(address: string, namespace: string, dir: string): Promise<ClusterStack> {
  const dataDir = mkdtempSync(join(dir, 'gpuflow-data-'));
  const env = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    GPUFLOW_DATA_DIR: dataDir,
    GPUFLOW_DEV_CHILD: 'true',
    GPUFLOW_LOG_LEVEL: 'warn',
  };
  const processes = new Map<string, GpuflowProcess>();
  const start = (name: string, args: string[], extra: Record<string, string> = {}): GpuflowProcess => {
    const started = runGpuflow(args, { ...env, ...extra }, { stdin: 'pipe' });
    processes.set(name, started);
    return started;
  };
  const stack: ClusterStack = {
    apiA: '',
    apiB: '',
    processes,
    async kill(name) {
      const target = processes.get(name);
      if (!target) throw new Error(`no process ${name}`);
      target.child.kill('SIGKILL');
      await target.exited;
    },
    async stop() {
      await Promise.all(
        [...processes.values()].map(async ({ child, exited }) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        }),
      );
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    const orchestrator = start('orchestrator', ['orchestrator']);
    for (const identity of ['worker-1', 'worker-2']) {
      start(identity, ['worker', ...JOB_MODULES, '--capacity', '2', '--grace', '5', '--identity', identity]);
    }
    const [portA, portB] = [await freePort(), await freePort()];
    const apiA = start('api-a', ['api'], { GPUFLOW_API_HOST: '127.0.0.1', GPUFLOW_API_PORT: String(portA) });
    const apiB = start('api-b', ['api'], { GPUFLOW_API_HOST: '127.0.0.1', GPUFLOW_API_PORT: String(portB) });
    stack.apiA = `http://127.0.0.1:${portA}`;
    stack.apiB = `http://127.0.0.1:${portB}`;
    await Promise.all([
      orchestrator.waitForLine(/orchestrator: running job workflows/, 180_000),
      processes.get('worker-1')!.waitForLine(/worker worker-1: serving/, 180_000),
      processes.get('worker-2')!.waitForLine(/worker worker-2: serving/, 180_000),
      ready(stack.apiA, apiA, 180_000),
      ready(stack.apiB, apiB, 180_000),
    ]);
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}
