import { setTimeout as sleep } from 'node:timers/promises';
import PgBoss from 'pg-boss';
import { PAYLOAD } from '../jobs/work.js';
import type { BenchClient, TickTimes } from '../types.js';
import { PGBOSS_POLLING_INTERVAL_S } from '../workers/pgboss-worker.js';
import { startPeerWorkers } from './peers.js';
import type { SystemDefinition } from './system.js';

const QUEUES = ['bench-noop', 'bench-tick'];

/** How often the producer looks for finished jobs: pg-boss has no way to wait for a job's result. */
const RESULT_POLL_MS = 10;

/**
 * Waits for pg-boss jobs to end: one query every RESULT_POLL_MS for every job still awaited (of one queue), not
 * one per job, so that 50 jobs in flight do not become 5,000 queries a second.
 */
function resultWatcher(boss: PgBoss, queue: string) {
  const waiting = new Map<string, { resolve: (output: unknown) => void; reject: (err: Error) => void }>();
  let polling = false;
  const poll = async (): Promise<void> => {
    polling = true;
    try {
      while (waiting.size > 0) {
        await sleep(RESULT_POLL_MS);
        const { rows } = await boss.getDb().executeSql(
          `SELECT id, state, output FROM pgboss.job WHERE name = $1 AND id = ANY($2::uuid[])
             AND state IN ('completed', 'failed', 'cancelled')`,
          [queue, [...waiting.keys()]],
        );
        for (const row of rows as { id: string; state: string; output: unknown }[]) {
          const waiter = waiting.get(row.id);
          waiting.delete(row.id);
          if (row.state === 'completed') waiter?.resolve(row.output);
          else waiter?.reject(new Error(`pg-boss job ${row.id} ended ${row.state}`));
        }
      }
    } finally {
      polling = false;
    }
  };
  return (id: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      if (!polling) void poll().catch((err: unknown) => reject(err as Error));
    });
}

/** pg-boss on PostgreSQL: a producer process and a worker process. */
export const pgboss: SystemDefinition = {
  name: 'pgboss',
  settings:
    `pg-boss defaults (durable tables, 2 retries) on PostgreSQL with its defaults (fsync, synchronous_commit); ` +
    `worker polling every ${PGBOSS_POLLING_INTERVAL_S} s (its minimum; default 2 s), results polled every ${RESULT_POLL_MS} ms`,

  async start(context) {
    if (!context.postgresUrl) throw new Error('pgboss needs PostgreSQL');
    // Schema and queues once, before any worker or producer: concurrent `createQueue` calls can deadlock.
    const boss = new PgBoss({ connectionString: context.postgresUrl });
    await boss.start();
    for (const queue of QUEUES) await boss.createQueue(queue);
    await boss.stop({ graceful: false, wait: true });
    return startPeerWorkers(
      'pgboss',
      'bench/workers/pgboss-worker.ts',
      context,
      {
        POSTGRES_URL: context.postgresUrl,
      },
      { postgresUrl: context.postgresUrl },
    );
  },

  async createClient(config) {
    const boss = new PgBoss({ connectionString: String(config.postgresUrl) });
    boss.on('error', (err) => process.stderr.write(`pgboss driver: ${String(err)}\n`));
    await boss.start();
    const results = { noop: resultWatcher(boss, 'bench-noop'), tick: resultWatcher(boss, 'bench-tick') };
    const send = async (queue: string): Promise<string> => {
      const id = await boss.send(queue, PAYLOAD);
      if (!id) throw new Error(`pg-boss did not create a ${queue} job`);
      return id;
    };
    const client: BenchClient = {
      async runNoop() {
        await results.noop(await send('bench-noop'));
      },
      enqueueTick: () => send('bench-tick'),
      async waitTick(id) {
        return (await results.tick(id)) as TickTimes;
      },
      async close() {
        await boss.stop({ graceful: false, wait: true });
      },
    };
    return client;
  },
};
