import { fileURLToPath } from 'node:url';
import { measureCost } from './cost.js';
import { SYSTEM_DEFINITIONS } from './systems/index.js';
import type { BacklogClient, BenchClient, DriverRequest, DriverResponse, SystemName } from './types.js';
import { drainBacklog, probeBacklog, settleBacklog, submitBacklog } from './backlog.js';
import { batchedRun } from './batched.js';
import { enqueueTicks, latency, requests, throughput, waitTicks } from './workloads.js';

/**
 * A system's client process: the harness forks one per system and sends it workloads over IPC. The client
 * libraries, connections and load generation weigh on this process only, which is the peers' measured `client`.
 */
async function handle(client: BenchClient, request: DriverRequest): Promise<unknown> {
  switch (request.op) {
    case 'latency':
      return latency(client, request);
    case 'throughput':
      return throughput(client, request);
    case 'dedup':
    case 'status': {
      const calls = request.op === 'dedup' ? client.dedup : client.status;
      if (!calls) throw new Error(`this system has no ${request.op} workload`);
      const call = 'hit' in calls ? () => calls.hit() : () => calls.read();
      return requests({ prepare: () => calls.prepare(), call }, request);
    }
    case 'batched':
      return batchedRun(client, request);
    case 'cost':
      return measureCost(client, request);
    case 'enqueue-ticks':
      return enqueueTicks(client, request.n);
    case 'wait-ticks':
      return waitTicks(client, request.keys);
    case 'backlog-probe':
      return probeBacklog(backlogOf(client), request.n);
    case 'backlog-submit':
      return submitBacklog(backlogOf(client), request.n, request.concurrency);
    case 'backlog-settle':
      return settleBacklog(backlogOf(client), request.expected, request.timeoutMs);
    case 'backlog-drain':
      return drainBacklog(backlogOf(client), request.keys, request.concurrency);
    case 'close':
      await client.close();
      return null;
  }
}

function backlogOf(client: BenchClient): BacklogClient {
  if (!client.backlog) throw new Error('this system has no backlog workload');
  return client.backlog;
}

async function main(): Promise<void> {
  const system = process.argv[2] as SystemName;
  const definition = await SYSTEM_DEFINITIONS[system]();
  const client = await definition.createClient(JSON.parse(process.env.BENCH_DRIVER_CONFIG ?? '{}') as never);
  const send = (response: DriverResponse, then: () => void = () => undefined): void =>
    void process.send?.(response, then);
  process.on('message', (request: DriverRequest) => {
    handle(client, request).then(
      (value) => send({ id: request.id, ok: true, value }, request.op === 'close' ? () => process.exit(0) : undefined),
      (err: unknown) =>
        send({ id: request.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
  send({ id: 0, ok: true, value: 'ready' });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench driver: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
