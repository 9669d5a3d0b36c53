import type { Driver } from './driver-handle.js';
import type { Sizes } from './harness.js';
import { median, percentile, round } from './stats.js';
import type { RunningSystem } from './systems/system.js';
import type { BatchVariant, BenchClient, ResultRow, SystemName } from './types.js';
import { inFlight } from './workloads.js';

/** Jobs in flight in the `batched` workload. */
export const BATCHED_CONCURRENCY = 32;
const TYPES: Record<BatchVariant, string> = { batched: 'bench-batched', unbatched: 'bench-unbatched' };

/** Driver side: `n` jobs of `type` with `concurrency` in flight, each submitted and awaited; medians of `reps`. */
export async function batchedRun(
  client: BenchClient,
  opts: { type: string; n: number; reps: number; concurrency: number },
): Promise<BatchedFigures> {
  if (!client.run) throw new Error('this system has no batched workload');
  const sizes: number[] = [];
  const job = async () => {
    const output = (await client.run!(opts.type)) as { batchSize?: unknown } | null;
    if (typeof output?.batchSize === 'number') sizes.push(output.batchSize);
  };
  await inFlight(Math.min(opts.n, opts.concurrency), opts.concurrency, job);
  sizes.length = 0;
  const p50s: number[] = [];
  const rates: number[] = [];
  for (let rep = 0; rep < opts.reps; rep += 1) {
    const { durations, elapsedMs } = await inFlight(opts.n, opts.concurrency, job);
    p50s.push(percentile(durations, 50));
    rates.push((opts.n * 1000) / elapsedMs);
  }
  // A job in a batch of k reports k: the mean over jobs weighs each call k times, so count calls as 1/k each.
  const calls = sizes.reduce((sum, size) => sum + 1 / size, 0);
  return { p50: median(p50s), jobsPerS: median(rates), batchSize: calls > 0 ? sizes.length / calls : 0 };
}

interface BatchedFigures {
  p50: number;
  jobsPerS: number;
  batchSize: number;
}

/**
 * Harness side: the same 50 ms + 2 ms per item handler as a batched job type and as an unbatched one, on one
 * worker whose forward passes run one at a time (one GPU), at `BATCHED_CONCURRENCY` in flight.
 */
export async function batchedRows(
  system: SystemName,
  running: RunningSystem,
  driver: Driver,
  sizes: Sizes,
  log: (line: string) => void,
): Promise<ResultRow[]> {
  if (!running.startBatchWorker) return [];
  const rows: ResultRow[] = [];
  const worker = await running.startBatchWorker();
  try {
    for (const variant of ['unbatched', 'batched'] as const) {
      log(`bench: ${system}: batched workload, ${variant}, ${BATCHED_CONCURRENCY} in flight`);
      const figures = await driver.call<BatchedFigures>({
        op: 'batched',
        type: TYPES[variant],
        n: sizes.batchedJobs,
        reps: sizes.reps,
        concurrency: BATCHED_CONCURRENCY,
      });
      const row = { workload: 'batched', system, concurrency: BATCHED_CONCURRENCY, variant } as const;
      rows.push({ ...row, metric: 'jobs_per_s', value: round(figures.jobsPerS) });
      rows.push({ ...row, metric: 'p50_ms', value: round(figures.p50) });
      rows.push({ ...row, metric: 'batch_size', value: round(figures.batchSize) });
    }
    const rate = (variant: BatchVariant) =>
      rows.find((row) => row.variant === variant && row.metric === 'jobs_per_s')?.value ?? 0;
    if (rate('unbatched') > 0) {
      log(`bench: ${system}: batched ÷ unbatched throughput ${round(rate('batched') / rate('unbatched'))}×`);
    }
  } finally {
    await worker.stop();
  }
  return rows;
}
