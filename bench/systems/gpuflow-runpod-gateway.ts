import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from '../stats.js';
import type { Proc } from '../procs.js';
import type { ProcessRole } from '../types.js';
import { createGpuflowClient, startGpuflowStack } from './gpuflow.js';
import { benchPython } from './gpuflow-python.js';
import { stopAll, type SystemDefinition } from './system.js';
import { API_NODE_FLAGS } from '../../config/node-flags.js';

/** What the gateway's API process appends per attempt (bench/workers/gateway-api.ts). */
interface GatewayTiming {
  handOutMs: number;
  doneMs: number;
}

/**
 * The same gpuflow stack; the jobs run by the real runpod 1.12.0 worker loop (`python handler.py`, an unmodified
 * RunPod handler file), pointed at the API's gateway routes by the `RUNPOD_WEBHOOK_*` variables only.
 */
export const gpuflowRunpodGateway: SystemDefinition = {
  name: 'gpuflow-runpod-gateway',
  settings:
    'gpuflow defaults; jobs taken over HTTP by the real runpod 1.12.0 worker loop (`python handler.py`, concurrency ' +
    '1, RUNPOD_PING_INTERVAL default 10 s) through the API gateway (job-take held up to 30 s); the SDK sleeps 1 s ' +
    'after each job',
  workloads: ['latency', 'dispatch-gap'],

  async start(context) {
    const python = benchPython();
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-bench-gateway-'));
    context.cleanup.add('gateway timings', () => rmSync(dir, { recursive: true, force: true }));
    const timingsFile = join(dir, 'timings.jsonl');
    writeFileSync(timingsFile, '');
    const stack = await startGpuflowStack(context, {
      api: {
        command: process.execPath,
        args: [...API_NODE_FLAGS, '--import', 'tsx', 'bench/workers/gateway-api.ts'],
        env: { BENCH_GATEWAY_TIMINGS: timingsFile },
      },
    });
    const runner = (name: string, file: string, type: string): Proc => {
      const prefix = `${stack.apiUrl}/runpod-worker/${type}`;
      return stack.start(
        name,
        python,
        [`bench/jobs/runpod/${file}`],
        {
          HOME: dir,
          RUNPOD_WEBHOOK_GET_JOB: `${prefix}/job-take/$ID?`,
          RUNPOD_WEBHOOK_POST_OUTPUT: `${prefix}/job-done/$RUNPOD_POD_ID/$ID?`,
          RUNPOD_WEBHOOK_POST_STREAM: `${prefix}/job-stream/$RUNPOD_POD_ID/$ID?`,
          RUNPOD_WEBHOOK_PING: `${prefix}/ping/$RUNPOD_POD_ID?`,
          // The API runs without keys here (as in the gpuflow system): every request is admin; pings need a key.
          RUNPOD_AI_API_KEY: 'bench-worker-key',
          RUNPOD_POD_ID: `bench-${type}`,
          RUNPOD_SKIP_AUTO_SYSTEM_CHECKS: 'true',
          RUNPOD_SKIP_GPU_CHECK: 'true',
          RUNPOD_LOG_LEVEL: 'WARN',
          PYTHONUNBUFFERED: '1',
        },
        true,
      );
    };
    const worker = runner('runpod worker (noop)', 'noop_handler.py', 'bench-noop');
    const processes = new Map<ProcessRole, Proc>([
      ['client', stack.api],
      ['worker', worker],
      ['orchestrator', stack.orchestrator],
    ]);
    let seen = 0;
    return {
      processes,
      driverConfig: { apiUrl: stack.apiUrl },
      startTickWorker: async () => runner('runpod worker (tick)', 'tick_handler.py', 'bench-tick'),
      async figures() {
        const lines = readFileSync(timingsFile, 'utf8').split('\n').filter(Boolean);
        const fresh = lines.slice(seen).map((line) => JSON.parse(line) as GatewayTiming);
        seen = lines.length;
        if (fresh.length === 0) return [];
        const totals = fresh.map((timing) => timing.handOutMs + timing.doneMs);
        return [
          { metric: 'gateway_p50_ms', value: percentile(totals, 50) },
          { metric: 'gateway_p95_ms', value: percentile(totals, 95) },
          {
            metric: 'gateway_handout_p50_ms',
            value: percentile(
              fresh.map((timing) => timing.handOutMs),
              50,
            ),
          },
          {
            metric: 'gateway_done_p50_ms',
            value: percentile(
              fresh.map((timing) => timing.doneMs),
              50,
            ),
          },
        ];
      },
      stop: () => stopAll(processes.values()),
    };
  },

  createClient: createGpuflowClient,
};
