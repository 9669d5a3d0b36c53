import { fileURLToPath } from 'node:url';
import PgBoss from 'pg-boss';
import { noop, tick } from '../jobs/work.js';

/** pg-boss polls; its default is every 2 s, 0.5 s is the least it accepts. */
export const PGBOSS_POLLING_INTERVAL_S = 0.5;

/**
 * pg-boss's worker process: `noop` or `tick` jobs of queue `bench-<kind>`, `capacity` at once (as many `work`
 * subscriptions fetching one job each, so that a slot is free as soon as its own job ends).
 */
async function main(): Promise<void> {
  const [kind, capacityArg] = process.argv.slice(2);
  const boss = new PgBoss({ connectionString: process.env.POSTGRES_URL, max: Number(capacityArg ?? 1) + 2 });
  boss.on('error', (err) => process.stderr.write(`pgboss-worker: ${String(err)}\n`));
  await boss.start();
  const queue = `bench-${kind}`;
  for (let slot = 0; slot < Number(capacityArg ?? 1); slot += 1) {
    await boss.work(queue, { batchSize: 1, pollingIntervalSeconds: PGBOSS_POLLING_INTERVAL_S }, async () =>
      kind === 'tick' ? tick() : noop(),
    );
  }
  const stop = (): void => void boss.stop({ graceful: true, wait: true, timeout: 2000 }).then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`pgboss-worker: ${String(err)}\n`);
    process.exit(1);
  });
}
