import { setTimeout as sleep } from 'node:timers/promises';
import type { Driver } from './driver-handle.js';
import { percentile, round } from './stats.js';
import type { RunningSystem } from './systems/system.js';
import type { BacklogClient, ResultRow, SystemName } from './types.js';
import { inFlight } from './workloads.js';

/** How big the `backlog` workload's queue gets, and how it is probed. */
export interface BacklogSizes {
  /** Queued jobs at which the probes run (ascending); the last is the backlog the workers drain. */
  queued: readonly number[];
  /** Calls of each probe (submit, job view, stats, queues) at each size; their p50 is the figure. */
  probes: number;
  /** Slots of the workers that drain the backlog, in all. */
  slots: number;
  /** Submissions in flight while the backlog is queued. */
  submitConcurrency: number;
  /** Longest wait for the queue to show every job queued before a probe, ms. */
  settleTimeoutMs: number;
}

export const BACKLOG_FULL: BacklogSizes = {
  queued: [1000, 5000],
  probes: 20,
  slots: 50,
  submitConcurrency: 10,
  settleTimeoutMs: 180_000,
};
export const BACKLOG_QUICK: BacklogSizes = { ...BACKLOG_FULL, queued: [100, 500], probes: 10, settleTimeoutMs: 60_000 };

/** p50 of each probe, ms: a submission, a queued job's view, the counts and the queues. */
export interface BacklogProbe {
  submit: number;
  get: number;
  stats: number;
  queues: number;
}

/** Driver side: `n` submissions, `concurrency` at a time; their keys in submission order, and jobs/s. */
export async function submitBacklog(
  client: BacklogClient,
  n: number,
  concurrency: number,
): Promise<{ keys: string[]; jobsPerS: number }> {
  const keys: string[] = new Array<string>(n);
  let next = 0;
  const { elapsedMs } = await inFlight(n, concurrency, async () => {
    const index = next++;
    keys[index] = await client.submit();
  });
  return { keys, jobsPerS: (n * 1000) / elapsedMs };
}

/** Driver side: each probe `n` times, one at a time (the submissions join the backlog: their keys come back). */
export async function probeBacklog(client: BacklogClient, n: number): Promise<BacklogProbe & { keys: string[] }> {
  const keys: string[] = [];
  const submits = await inFlight(n, 1, async () => keys.push(await client.submit()));
  const viewed = keys[0]!;
  const gets = await inFlight(n, 1, () => client.get(viewed));
  const stats = await inFlight(n, 1, () => client.stats());
  const queues = await inFlight(n, 1, () => client.queues());
  return {
    keys,
    submit: percentile(submits.durations, 50),
    get: percentile(gets.durations, 50),
    stats: percentile(stats.durations, 50),
    queues: percentile(queues.durations, 50),
  };
}

/** Driver side: polls the queue until it shows `expected` jobs waiting or `timeoutMs` has passed; the last count. */
export async function settleBacklog(client: BacklogClient, expected: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = await client.backlogCount();
  while (count < expected && Date.now() < deadline) {
    await sleep(500);
    count = await client.backlogCount();
  }
  return count;
}

/** Driver side: waits for every job, `concurrency` in submission order; each one's handler end (epoch ms). */
export async function drainBacklog(client: BacklogClient, keys: readonly string[], concurrency: number) {
  const ends: number[] = new Array<number>(keys.length);
  let next = 0;
  await inFlight(keys.length, concurrency, async () => {
    const index = next++;
    ends[index] = await client.wait(keys[index]!);
  });
  return ends;
}

/**
 * Harness side of the `backlog` workload: probes near idle, queues jobs with no worker for them up to each size in
 * `sizes.queued` (the submit rate of each step), probes again once the queue shows them, then starts workers with
 * `sizes.slots` slots and times the drain from the handlers' own clocks (first end to last end: a worker's start-up
 * is not in it).
 */
export async function runBacklog(
  system: SystemName,
  running: RunningSystem & { startBacklogWorker: (slots: number) => Promise<{ stop(): Promise<void> }> },
  driver: Driver,
  sizes: BacklogSizes,
  log: (line: string) => void,
): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  // Said as they come: a 5,000-job run takes a while, and an interrupted one still leaves its figures in the log.
  const add = (metric: ResultRow['metric'], queued: number, value: number, concurrency: number | null = 1): void => {
    rows.push({ workload: 'backlog', system, metric, concurrency, value: round(value), queued });
    log(`bench: ${system}: backlog, ${metric} at ${queued} queued: ${round(value)}`);
  };
  const addProbe = (queued: number, probe: BacklogProbe): void => {
    add('submit_p50_ms', queued, probe.submit);
    add('get_p50_ms', queued, probe.get);
    add('stats_p50_ms', queued, probe.stats);
    add('queues_p50_ms', queued, probe.queues);
  };
  log(`bench: ${system}: backlog, idle probes`);
  const idle = await driver.call<BacklogProbe & { keys: string[] }>({ op: 'backlog-probe', n: sizes.probes });
  addProbe(0, idle);
  const keys = [...idle.keys];
  for (const queued of sizes.queued) {
    log(`bench: ${system}: backlog, queueing up to ${queued} jobs with no worker`);
    const n = queued - keys.length;
    const step = await driver.call<{ keys: string[]; jobsPerS: number }>({
      op: 'backlog-submit',
      n,
      concurrency: sizes.submitConcurrency,
    });
    keys.push(...step.keys);
    add('submit_jobs_per_s', queued, step.jobsPerS, sizes.submitConcurrency);
    const shown = await driver.call<number>({
      op: 'backlog-settle',
      expected: keys.length,
      timeoutMs: sizes.settleTimeoutMs,
    });
    log(`bench: ${system}: backlog, the queue shows ${shown} of ${keys.length} jobs; probing`);
    const probe = await driver.call<BacklogProbe & { keys: string[] }>({ op: 'backlog-probe', n: sizes.probes });
    keys.push(...probe.keys);
    addProbe(queued, probe);
  }
  log(`bench: ${system}: backlog, draining ${keys.length} jobs with ${sizes.slots} slots`);
  const worker = await running.startBacklogWorker(sizes.slots);
  try {
    const ends = await driver.call<number[]>({ op: 'backlog-drain', keys, concurrency: sizes.slots });
    const spanMs = Math.max(...ends) - Math.min(...ends);
    add('drain_jobs_per_s', keys.length, ((ends.length - 1) * 1000) / spanMs, sizes.slots);
  } finally {
    await worker.stop();
  }
  return rows;
}
