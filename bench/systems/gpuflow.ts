import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_NODE_FLAGS } from '../../config/node-flags.js';
import { freePort } from '../../scripts/temporal-dev-server.js';
import { BENCH_BATCH_SIZE, PAYLOAD } from '../jobs/work.js';
import { PROJECT_ROOT, startProc, waitUntil, type Cleanup, type Proc } from '../procs.js';
import type { BenchClient, ProcessRole, TickTimes } from '../types.js';
import { stopAll, type SystemContext, type SystemDefinition } from './system.js';

const GPUFLOW = join(PROJECT_ROOT, 'bin', 'gpuflow.js');
const WAIT_MS = 60_000;
/** Slots per type of the `batched` workload's worker: one batch running, the next one filling. */
const BATCH_WORKER_CAPACITY = 2 * BENCH_BATCH_SIZE;

interface View {
  id: string;
  status: string;
  output?: unknown;
  queues?: { type: string; backlogCount: number }[];
}

/** gpuflow's API and orchestrator, as `gpuflow api|orchestrator` run them; the job workers are the system's. */
export interface GpuflowStack {
  apiUrl: string;
  /** The environment every gpuflow process of this stack gets. */
  env: Record<string, string>;
  api: Proc;
  orchestrator: Proc;
  /** Starts a process that the run's cleanup stops. */
  start(name: string, command: string, args: string[], env?: Record<string, string>, group?: boolean): Proc;
}

/** `api`: the API process's command and arguments (default `gpuflow api` with its Node flags, as it is deployed). */
export async function startGpuflowStack(
  context: SystemContext,
  options: { api?: { command: string; args: string[]; env?: Record<string, string> } } = {},
): Promise<GpuflowStack> {
  if (!context.temporalAddress) throw new Error('gpuflow needs a Temporal server');
  const port = await freePort();
  const env = {
    TEMPORAL_ADDRESS: context.temporalAddress,
    GPUFLOW_API_HOST: '127.0.0.1',
    GPUFLOW_API_PORT: String(port),
    GPUFLOW_LOG_LEVEL: 'warn',
  };
  const start = (name: string, command: string, args: string[], extra: Record<string, string> = {}, group = false) =>
    registered(context.cleanup, startProc(name, command, args, { ...env, ...extra }, { group }));
  const orchestrator = start('gpuflow orchestrator', process.execPath, [GPUFLOW, 'orchestrator']);
  const apiCommand = options.api ?? { command: process.execPath, args: [...API_NODE_FLAGS, GPUFLOW, 'api'] };
  const api = start('gpuflow api', apiCommand.command, apiCommand.args, apiCommand.env);
  const apiUrl = `http://127.0.0.1:${port}`;
  await waitUntil('gpuflow api', async () => (await fetch(`${apiUrl}/readyz`)).ok);
  return { apiUrl, env, api, orchestrator, start };
}

function registered(cleanup: Cleanup, proc: Proc): Proc {
  cleanup.add(proc.name, () => proc.stop());
  return proc;
}

/** The client side of every gpuflow system: HTTP to the API (`driverConfig: { apiUrl }`). */
export async function createGpuflowClient(config: Record<string, unknown>): Promise<BenchClient> {
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
  /**
   * The backlog workload's calls: a 503 (Temporal slower than the API's 5 s bound, which a 5,000-job backlog on a
   * loaded machine can make it) says "try again", as does a dropped connection; each is said on stderr. A retried submission may queue one more job.
   */
  const patiently = async <T>(attempt: () => Promise<T>): Promise<T> => {
    for (let tries = 1; ; tries += 1) {
      try {
        return await attempt();
      } catch (err) {
        if (tries >= 5 || !/: 503 |fetch failed/.test(String(err))) throw err;
        process.stderr.write(`bench: gpuflow: ${String(err).slice(0, 160)}; trying again\n`);
        await sleep(1000);
      }
    }
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
    async run(type) {
      return (await untilEnded(await submit(type, true))).output;
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
    backlog: {
      async submit() {
        return (await patiently(() => submit('bench-backlog', false))).id;
      },
      async get(id) {
        await patiently(() => call('GET', `/v1/jobs/${id}`));
      },
      async stats() {
        await patiently(() => call('GET', '/v1/stats'));
      },
      async queues() {
        await patiently(() => call('GET', '/v1/queues'));
      },
      async backlogCount() {
        const { queues } = await patiently(() => call('GET', '/v1/queues'));
        return queues?.find((queue) => queue.type === 'bench-backlog')?.backlogCount ?? 0;
      },
      async wait(id) {
        const view = await patiently(async () => untilEnded(await call('GET', `/v1/jobs/${id}?wait=${WAIT_MS}`)));
        return (view.output as { endMs: number }).endMs;
      },
    },
    cost: {
      async noop() {
        return (await untilEnded(await submit('bench-noop', true))).id;
      },
      async progress(seconds) {
        const body = { type: 'bench-progress', input: { seconds }, dedup: false };
        return (await untilEnded(await call('POST', `/v1/jobs?wait=${WAIT_MS}`, body))).id;
      },
    },
    async close() {},
  };
  return client;
}

/** gpuflow as users run it: `gpuflow api|orchestrator|worker` processes, the client over HTTP. */
export const gpuflow: SystemDefinition = {
  name: 'gpuflow',
  settings: 'gpuflow defaults (maxAttempts 3, 1 s lease heartbeats) on the harness Temporal dev server',

  async start(context) {
    const stack = await startGpuflowStack(context);
    const tsWorker = (name: string, modules: string[], capacity: number): Proc =>
      stack.start(name, process.execPath, [
        GPUFLOW,
        'worker',
        ...modules,
        '--capacity',
        String(capacity),
        '--grace',
        '1',
      ]);
    const worker = tsWorker('gpuflow worker', ['bench/jobs/noop.ts', 'bench/jobs/progress.ts'], context.capacity);
    const processes = new Map<ProcessRole, Proc>([
      ['client', stack.api],
      ['worker', worker],
      ['orchestrator', stack.orchestrator],
    ]);
    return {
      processes,
      driverConfig: { apiUrl: stack.apiUrl },
      startTickWorker: async () => tsWorker('gpuflow tick worker', ['bench/jobs/tick.ts'], 1),
      startBacklogWorker: async (slots) => tsWorker('gpuflow backlog worker', ['bench/jobs/backlog.ts'], slots),
      startBatchWorker: async () => tsWorker('gpuflow batch worker', ['bench/jobs/batched.ts'], BATCH_WORKER_CAPACITY),
      stop: () => stopAll(processes.values()),
    };
  },

  createClient: createGpuflowClient,
};
