import { Command, InvalidArgumentError } from 'commander';
import { FULL, QUICK, runBench } from './harness.js';
import { Cleanup } from './procs.js';
import { formatSettings, formatTable, writeReport } from './report.js';
import { SYSTEMS, WORKLOADS, type SystemName, type WorkloadName } from './types.js';

function listOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T[] => {
    const items = value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
    const bad = items.filter((item) => !allowed.includes(item as T));
    if (bad.length > 0 || items.length === 0) {
      throw new InvalidArgumentError(`expected a comma-separated list of ${allowed.join(', ')}`);
    }
    return items as T[];
  };
}

const program = new Command('bench')
  .description('gpuflow side by side with raw Temporal, BullMQ and pg-boss, in one run (every figure a ratio)')
  .option('--quick', 'small sizes and one repetition: a smoke run of under two minutes')
  .option('--only <workloads>', `workloads to run: ${WORKLOADS.join(', ')}`, listOf(WORKLOADS))
  .option('--systems <systems>', `systems to run: ${SYSTEMS.join(', ')}`, listOf(SYSTEMS))
  .option('--temporal-db-file', 'Temporal dev server state in a SQLite file (as npm run dev) instead of in memory')
  .option(
    '--temporal-stock-poll-rate',
    "Temporal's default transfer queue read rate (20 a second per shard: every hop waits up to 50 ms) instead of the dev stack's 1000",
  )
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<{
    quick?: boolean;
    only?: WorkloadName[];
    systems?: SystemName[];
    temporalDbFile?: boolean;
    temporalStockPollRate?: boolean;
  }>();
  const systems = opts.systems ? SYSTEMS.filter((system) => opts.systems!.includes(system)) : [...SYSTEMS];
  const workloads = opts.only ?? [...WORKLOADS];
  const report = await runBench({
    cleanup,
    systems,
    workloads,
    sizes: opts.quick ? QUICK : FULL,
    temporalDbFile: opts.temporalDbFile,
    temporalStockPollRate: opts.temporalStockPollRate,
  });
  report.machine.quick = opts.quick ?? false;
  const full = !opts.quick && systems.length === SYSTEMS.length && workloads.length === WORKLOADS.length;
  const path = writeReport(report, { latest: full });
  process.stdout.write(`\n${formatTable(report)}\n\n${formatSettings(report)}\n\nwritten to ${path}\n`);
}

// Ctrl-C: stop every process and server the run started, remove their data, leave; a second Ctrl-C leaves at once.
const cleanup = new Cleanup();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`bench: ${signal}, stopping everything it started ...\n`);
    void cleanup.runAll().finally(() => process.exit(130));
  });
}

main().catch(async (err: unknown) => {
  await cleanup.runAll();
  if (interrupted) process.exit(130);
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
