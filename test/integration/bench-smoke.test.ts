import { describe, expect, it } from 'vitest';
import { runBench, type Sizes } from '../../bench/harness.js';
import { formatTable } from '../../bench/report.js';
import { WORKLOADS, type ResultRow } from '../../bench/types.js';

/** A few jobs per workload: enough to run every code path of the harness, not to measure anything. */
const SMOKE: Sizes = {
  warmup: 1,
  latencyJobs: 3,
  throughputJobs: { 1: 2, 4: 4 },
  gapJobs: 5,
  settleMs: 500,
  requests: 4,
  requestConcurrency: 2,
  batchedJobs: 4,
  reps: 1,
  backlog: { queued: [6, 12], probes: 2, slots: 4, submitConcurrency: 2, settleTimeoutMs: 15_000 },
  costProgressSeconds: 2,
};

/** The backlog rows of one system: probes near idle and at each size, the submit rate of each step, the drain. */
const backlogRows = (system: string): string[] => [
  ...[0, 6, 12].flatMap((queued) =>
    ['submit_p50_ms', 'get_p50_ms', 'stats_p50_ms', 'queues_p50_ms'].map((m) => `backlog ${system} ${m} 1 - ${queued}`),
  ),
  `backlog ${system} submit_jobs_per_s 2 - 6`,
  `backlog ${system} submit_jobs_per_s 2 - 12`,
  // 12 queued, and the probes at 12 submitted two more.
  `backlog ${system} drain_jobs_per_s 4 - 14`,
];

const COST_METRICS = [
  'history_events',
  'workflow_tasks',
  'signals',
  'sa_upserts',
  'memo_upserts',
  'heartbeats',
  'actions',
];
const costRows = (system: string): string[] =>
  ['noop', 'progress-2s'].flatMap((job) => COST_METRICS.map((metric) => `cost ${system} ${metric} 1 - ${job}`));

const key = (row: ResultRow): string =>
  [
    row.workload,
    row.system,
    row.metric,
    row.concurrency ?? '-',
    row.process ?? '-',
    ...(row.job ? [row.job] : []),
    ...(row.queued === undefined ? [] : [row.queued]),
    ...(row.variant ? [row.variant] : []),
  ].join(' ');

describe('npm run bench (smoke: gpuflow and raw Temporal, a few jobs)', () => {
  it('starts its own server and processes, runs every workload and reports one row per figure', async () => {
    const report = await runBench({
      systems: ['gpuflow', 'temporal'],
      workloads: WORKLOADS,
      sizes: SMOKE,
      log: () => undefined,
    });

    expect(report.machine).toMatchObject({ cores: expect.any(Number) as unknown, node: process.version });
    expect(report.machine.temporalServer).toMatch(/Server \d+\.\d+/);
    expect(report.results.map(key).sort()).toEqual(
      [
        'latency gpuflow p50_ms 1 -',
        'latency gpuflow p95_ms 1 -',
        'latency gpuflow p99_ms 1 -',
        'throughput gpuflow jobs_per_s 1 -',
        'throughput gpuflow jobs_per_s 4 -',
        'memory gpuflow rss_mb - client',
        'memory gpuflow rss_mb - worker',
        'memory gpuflow rss_mb - orchestrator',
        'dispatch-gap gpuflow gap_ms 1 -',
        'dedup gpuflow p50_ms 1 -',
        'dedup gpuflow req_per_s 2 -',
        'status gpuflow p50_ms 1 -',
        'status gpuflow req_per_s 2 -',
        'batched gpuflow jobs_per_s 32 - batched',
        'batched gpuflow p50_ms 32 - batched',
        'batched gpuflow jobs_per_s 32 - unbatched',
        'batched gpuflow p50_ms 32 - unbatched',
        'batched gpuflow batch_size 32 - batched',
        'batched gpuflow batch_size 32 - unbatched',
        'latency temporal p50_ms 1 -',
        'latency temporal p95_ms 1 -',
        'latency temporal p99_ms 1 -',
        'throughput temporal jobs_per_s 1 -',
        'throughput temporal jobs_per_s 4 -',
        'memory temporal rss_mb - client',
        'memory temporal rss_mb - worker',
        'dispatch-gap temporal gap_ms 1 -',
        'status temporal p50_ms 1 -',
        'status temporal req_per_s 2 -',
        ...backlogRows('gpuflow'),
        ...backlogRows('temporal'),
        ...costRows('gpuflow'),
        ...costRows('temporal'),
      ].sort(),
    );
    for (const row of report.results) {
      // An idle gap of 0 ms is possible in principle; every other figure is a positive number.
      // Counts of what a job cost may be 0 (no signals, say); every job starts, so it costs actions.
      if (row.metric === 'gap_ms' || (row.workload === 'cost' && row.metric !== 'actions')) {
        expect(row.value, key(row)).toBeGreaterThanOrEqual(0);
      } else expect(row.value, key(row)).toBeGreaterThan(0);
    }
    const raw = report.results.find(
      (row) => row.job === 'noop' && row.system === 'temporal' && row.metric === 'actions',
    );
    expect(raw?.value).toBe(2);
    expect(formatTable(report)).toMatch(/\| latency \| p50_ms ↓ \| 1 \| [\d.]+ \| [\d.]+ \| [\d.]+× \|/);
  }, 300_000);
});
