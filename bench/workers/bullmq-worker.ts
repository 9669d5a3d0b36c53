import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';
import { noop, tick } from '../jobs/work.js';

/** BullMQ's worker process: `noop` or `tick` jobs of queue `bench-<kind>`, `capacity` at once. */
async function main(): Promise<void> {
  const [kind, capacityArg] = process.argv.slice(2);
  const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const worker = new Worker(`bench-${kind}`, async () => (kind === 'tick' ? tick() : noop()), {
    connection: { host: url.hostname, port: Number(url.port) },
    concurrency: Number(capacityArg ?? 1),
  });
  worker.on('error', (err) => process.stderr.write(`bullmq-worker: ${String(err)}\n`));
  const stop = (): void => void worker.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await worker.waitUntilReady();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`bullmq-worker: ${String(err)}\n`);
    process.exit(1);
  });
}
