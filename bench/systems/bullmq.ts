import { Queue, QueueEvents, type Job } from 'bullmq';
import { PAYLOAD } from '../jobs/work.js';
import type { BenchClient, TickTimes } from '../types.js';
import { startPeerWorkers } from './peers.js';
import type { SystemDefinition } from './system.js';

const WAIT_MS = 60_000;

/** BullMQ on Redis: a producer process (Queue + QueueEvents) and a worker process. */
export const bullmq: SystemDefinition = {
  name: 'bullmq',
  settings: 'BullMQ defaults (1 attempt, jobs kept after completion) on Redis with its defaults (RDB, no AOF)',

  async start(context) {
    if (!context.redisUrl) throw new Error('bullmq needs Redis');
    return startPeerWorkers(
      'bullmq',
      'bench/workers/bullmq-worker.ts',
      context,
      { REDIS_URL: context.redisUrl },
      {
        redisUrl: context.redisUrl,
      },
    );
  },

  async createClient(config) {
    const url = new URL(String(config.redisUrl));
    const connection = { host: url.hostname, port: Number(url.port) };
    const queues = { noop: new Queue('bench-noop', { connection }), tick: new Queue('bench-tick', { connection }) };
    const events = {
      noop: new QueueEvents('bench-noop', { connection }),
      tick: new QueueEvents('bench-tick', { connection }),
    };
    for (const item of [...Object.values(queues), ...Object.values(events)]) {
      // Every job awaited adds listeners: 50 in flight are expected here, not a leak.
      item.setMaxListeners(1000);
      await item.waitUntilReady();
    }
    const ticks = new Map<string, Job>();
    const client: BenchClient = {
      async runNoop() {
        const job = await queues.noop.add('noop', PAYLOAD);
        await job.waitUntilFinished(events.noop, WAIT_MS);
      },
      async enqueueTick() {
        const job = await queues.tick.add('tick', PAYLOAD);
        ticks.set(job.id!, job);
        return job.id!;
      },
      async waitTick(id) {
        const job = ticks.get(id);
        if (!job) throw new Error(`unknown tick job ${id}`);
        ticks.delete(id);
        return (await job.waitUntilFinished(events.tick, WAIT_MS)) as TickTimes;
      },
      async close() {
        await Promise.all([...Object.values(events), ...Object.values(queues)].map((item) => item.close()));
      },
    };
    return client;
  },
};
