import { setTimeout as sleep } from 'node:timers/promises';
import type { TickTimes } from '../types.js';

/** The same input for every system: a 256-character string in an object. */
export const PAYLOAD = { data: 'x'.repeat(256) } as const;
export type Payload = typeof PAYLOAD;

/** Duration of the "10 ms job" of the dispatch-gap workload. */
export const TICK_MS = 10;

const nowMs = (): number => performance.timeOrigin + performance.now();

/** The no-op job: does nothing with its input and returns a small constant. */
export function noop(): { ok: true } {
  return { ok: true };
}

/** The 10 ms job: reports when its handler started and ended, so the harness sees the worker's idle time. */
export async function tick(): Promise<TickTimes> {
  const startMs = nowMs();
  await sleep(TICK_MS);
  return { startMs, endMs: nowMs() };
}

/** The backlog job: does nothing and says when (epoch ms), so a drain is timed by the handlers themselves. */
export function stamp(): { endMs: number } {
  return { endMs: nowMs() };
}

/** The cost workload's long job: runs `seconds`, reporting its progress once a second. */
export async function reportProgress(seconds: number, progress: (percent: number) => void): Promise<{ ok: true }> {
  for (let second = 1; second <= seconds; second += 1) {
    await sleep(1000);
    progress((100 * second) / seconds);
  }
  return { ok: true };
}

/** The `batched` workload's handler cost: a fixed 50 ms per call plus 2 ms per item (a GPU forward pass). */
export const FORWARD_PASS_MS = { perCall: 50, perItem: 2 } as const;
/** Batch size of `bench-batched`; its worker has twice as many slots, so the next batch fills while one runs. */
export const BENCH_BATCH_SIZE = 16;

let gpu: Promise<void> = Promise.resolve();

/**
 * One forward pass over `items` inputs on this process's one GPU: passes run one at a time, whatever the worker's
 * slots, as they do on a real device. Resolves with the size of the pass.
 */
export function forwardPass(items: number): Promise<number> {
  const run = gpu.then(() => sleep(FORWARD_PASS_MS.perCall + FORWARD_PASS_MS.perItem * items));
  gpu = run;
  return run.then(() => items);
}
