/** Nearest-rank percentile of `values` (not sorted in place); `p` in 0..100. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  return { p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99) };
}

/** Each percentile's median over repetitions: one slow repetition (a neighbour's test run) does not decide. */
export function medianOfPercentiles(reps: readonly Percentiles[]): Percentiles {
  return {
    p50: median(reps.map((rep) => rep.p50)),
    p95: median(reps.map((rep) => rep.p95)),
    p99: median(reps.map((rep) => rep.p99)),
  };
}

/**
 * Idle time of a worker between consecutive jobs, from the handlers' own timestamps: start of a job minus end of
 * the one before, in start order. The first `skip` gaps (the worker warming up) are left out.
 */
export function dispatchGaps(times: readonly { startMs: number; endMs: number }[], skip = 3): number[] {
  const sorted = [...times].sort((a, b) => a.startMs - b.startMs);
  const gaps: number[] = [];
  for (let i = 1; i < sorted.length; i += 1) gaps.push(Math.max(0, sorted[i]!.startMs - sorted[i - 1]!.endMs));
  return gaps.length > skip ? gaps.slice(skip) : gaps;
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
