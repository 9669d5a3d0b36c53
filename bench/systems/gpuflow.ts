import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { freePort } from '../../scripts/temporal-dev-server.js';
import { PAYLOAD } from '../jobs/work.js';
import { PROJECT_ROOT, startProc, waitUntil, type Proc } from '../procs.js';
import type { BenchClient, ProcessRole, TickTimes } from '../types.js';
import { stopAll, type SystemDefinition } from './system.js';

const GPUFLOW = join(PROJECT_ROOT, 'bin', 'gpuflow.js');
const WAIT_MS = 60_000;

interface View {
  id: string;
  status: string;
  output?: unknown;
}

/** gpuflow as users run it: `gpuflow api|orchestrator|worker` processes, the client over HTTP. */
export const gpuflow: SystemDefinition = {
  name: 'gpuflow',
  settings: 'gpuflow defaults (maxAttempts 3, 1 s lease heartbeats) on the harness Temporal dev server',

  async start(context) {
    if (!context.temporalAddress) throw new Error('gpuflow needs a Temporal server');
    const port = await freePort();
    const env = {
      TEMPORAL_ADDRESS: context.temporalAddress,
      GPUFLOW_API_HOST: '127.0.0.1',
      GPUFLOW_API_PORT: String(port),
      GPUFLOW_LOG_LEVEL: 'warn',
    };
    const gpuflowProc = (name: string, args: string[]): Proc => {
      const proc = startProc(`gpuflow ${name}`, process.execPath, [GPUFLOW, ...args], env);
      context.cleanup.add(`gpuflow ${name}`, () => proc.stop());
      return proc;
    };
    const orchestrator = gpuflowProc('orchestrator', ['orchestrator']);
    const api = gpuflowProc('api', ['api']);
    const worker = gpuflowProc('worker', [
      'worker',
      'bench/jobs/noop.ts',
      '--capacity',
      String(context.capacity),
      '--grace',
      '1',
    ]);
    const apiUrl = `http://127.0.0.1:${port}`;
    await waitUntil('gpuflow api', async () => (await fetch(`${apiUrl}/readyz`)).ok);
    const processes = new Map<ProcessRole, Proc>([
      ['client', api],
      ['worker', worker],
      ['orchestrator', orchestrator],
    ]);
    return {
      processes,
      driverConfig: { apiUrl },
      async startTickWorker() {
        return gpuflowProc('tick worker', ['worker', 'bench/jobs/tick.ts', '--capacity', '1', '--grace', '1']);
      },
      stop: () => stopAll(processes.values()),
    };
  },

  async createClient(config) {
    const apiUrl = String(config.apiUrl);
    const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<View> => {
      const response = await fetch(`${apiUrl}${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return JSON.parse(text) as View;
    };
    /** Long-polls until the job has ended; a wait that runs out is asked again. */
    const untilEnded = async (first: View): Promise<View> => {
      let view = first;
      while (view.status === 'IN_QUEUE' || view.status === 'IN_PROGRESS') {
        view = await call('GET', `/v1/jobs/${view.id}?wait=${WAIT_MS}`);
      }
      if (view.status !== 'COMPLETED') throw new Error(`job ${view.id} ended ${view.status}`);
      return view;
    };
    const submit = (type: string, wait: boolean, dedup = false): Promise<View> =>
      call('POST', `/v1/jobs${wait ? `?wait=${WAIT_MS}` : ''}`, { type, input: PAYLOAD, dedup });
    // One fixed input per driver: the dedup and status workloads read the same completed job.
    const cachedInput = { data: PAYLOAD.data, key: randomUUID() };
    let cachedId = '';

    const client: BenchClient = {
      async runNoop() {
        await untilEnded(await submit('bench-noop', true));
      },
      async enqueueTick() {
        return (await submit('bench-tick', false)).id;
      },
      async waitTick(id) {
        return (await untilEnded(await call('GET', `/v1/jobs/${id}?wait=${WAIT_MS}`))).output as TickTimes;
      },
      dedup: {
        async prepare() {
          const first = await call('POST', `/v1/jobs?wait=${WAIT_MS}`, { type: 'bench-noop', input: cachedInput });
          cachedId = (await untilEnded(first)).id;
        },
        async hit() {
          const view = await call('POST', '/v1/jobs', { type: 'bench-noop', input: cachedInput });
          if (view.status !== 'COMPLETED' || view.id !== cachedId) throw new Error('dedup: not the cached job');
        },
      },
      status: {
        async prepare() {
          if (!cachedId) await client.dedup!.prepare();
        },
        async read() {
          const view = await call('GET', `/v1/jobs/${cachedId}`);
          if (view.status !== 'COMPLETED') throw new Error(`status: ${view.status}`);
        },
      },
      async close() {},
    };
    return client;
  },
};
