import { median, medianOfPercentiles, percentile, percentiles, type Percentiles } from './stats.js';
import type { BenchClient, TickTimes } from './types.js';

/**
 * Runs `task` `n` times with at most `concurrency` in flight; resolves with each call's duration (ms) and the
 * whole run's wall time.
 */
export async function inFlight(
  n: number,
  concurrency: number,
  task: () => Promise<unknown>,
): Promise<{ durations: number[]; elapsedMs: number }> {
  const durations: number[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (next < n) {
      next += 1;
      const t0 = performance.now();
      await task();
      durations.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, lane));
  return { durations, elapsedMs: performance.now() - started };
}

/** Submit → result of one no-op job at a time: percentiles, each the median over `reps` repetitions. */
export async function latency(client: BenchClient, opts: { n: number; reps: number; warmup: number }) {
  await inFlight(opts.warmup, 1, () => client.runNoop());
  const reps: Percentiles[] = [];
  for (let rep = 0; rep < opts.reps; rep += 1) {
    reps.push(percentiles((await inFlight(opts.n, 1, () => client.runNoop())).durations));
  }
  return medianOfPercentiles(reps);
}

/** `n` no-op jobs with `concurrency` in flight (each submitted and awaited): jobs/s, median of `reps`. */
export async function throughput(client: BenchClient, opts: { n: number; reps: number; concurrency: number }) {
  await inFlight(Math.min(opts.n, opts.concurrency * 2), opts.concurrency, () => client.runNoop());
  const rates: number[] = [];
  for (let rep = 0; rep < opts.reps; rep += 1) {
    const { elapsedMs } = await inFlight(opts.n, opts.concurrency, () => client.runNoop());
    rates.push((opts.n * 1000) / elapsedMs);
  }
  return median(rates);
}

/**
 * A cheap request repeated: p50 one at a time, and requests/s with `concurrency` in flight; each the median of
 * `reps`.
 */
export async function requests(
  calls: { prepare(): Promise<void>; call(): Promise<void> },
  opts: { n: number; reps: number; concurrency: number },
) {
  await calls.prepare();
  await inFlight(Math.min(20, opts.n), 1, () => calls.call());
  const p50s: number[] = [];
  const rates: number[] = [];
  for (let rep = 0; rep < opts.reps; rep += 1) {
    p50s.push(percentile((await inFlight(opts.n, 1, () => calls.call())).durations, 50));
    const { elapsedMs } = await inFlight(opts.n, opts.concurrency, () => calls.call());
    rates.push((opts.n * 1000) / elapsedMs);
  }
  return { p50: median(p50s), reqPerS: median(rates) };
}

/** Queues `n` 10 ms jobs, 10 submissions at a time; resolves with their keys in submission order. */
export async function enqueueTicks(client: BenchClient, n: number): Promise<string[]> {
  const keys: string[] = new Array<string>(n);
  let next = 0;
  await inFlight(n, 10, async () => {
    const index = next++;
    keys[index] = await client.enqueueTick();
  });
  return keys;
}

export function waitTicks(client: BenchClient, keys: readonly string[]): Promise<TickTimes[]> {
  return Promise.all(keys.map((key) => client.waitTick(key)));
}
