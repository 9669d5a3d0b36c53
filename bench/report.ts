import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchReport } from './harness.js';
import { PROJECT_ROOT } from './procs.js';
import { round } from './stats.js';
import { SYSTEMS, WORKLOADS, type ResultRow, type SystemName } from './types.js';

/** gpuflow with other job workers: compared with gpuflow (variant ÷ gpuflow), not with the peers. */
const VARIANTS = SYSTEMS.filter((system) => system.startsWith('gpuflow-'));
const PEERS = SYSTEMS.filter((system) => !system.startsWith('gpuflow'));
const ROLE_ORDER = ['client', 'worker', 'orchestrator'];
const METRIC_ORDER = [
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'jobs_per_s',
  'req_per_s',
  'gap_ms',
  'gateway_p50_ms',
  'gateway_p95_ms',
  'gateway_handout_p50_ms',
  'gateway_done_p50_ms',
  'submit_jobs_per_s',
  'submit_p50_ms',
  'get_p50_ms',
  'stats_p50_ms',
  'queues_p50_ms',
  'drain_jobs_per_s',
  'rss_mb',
  'batch_size',
  'history_events',
  'workflow_tasks',
  'signals',
  'sa_upserts',
  'memo_upserts',
  'heartbeats',
  'actions',
];

/** Lower is better for times and memory, higher for rates. */
const higherIsBetter = (metric: string): boolean => metric.endsWith('_per_s');

const keyOf = (row: ResultRow): string =>
  `${row.workload}|${row.job ?? ''}|${row.metric}|${row.concurrency ?? ''}|${row.process ?? ''}|${row.queued ?? ''}|${row.variant ?? ''}`;

/**
 * The results as one Markdown table: a line per figure, a column per system, gpuflow's ratio to each peer
 * (gpuflow ÷ peer, so above 1 is better for rates and worse for times and memory), and each gpuflow variant's ratio
 * to gpuflow with its TypeScript worker (variant ÷ gpuflow).
 */
export function formatTable(report: BenchReport): string {
  const lines = new Map<string, Partial<Record<SystemName, number>> & { row: ResultRow }>();
  for (const row of report.results) {
    const line = lines.get(keyOf(row)) ?? { row };
    line[row.system] = row.value;
    lines.set(keyOf(row), line);
  }
  const sorted = [...lines.values()].sort(
    (a, b) =>
      WORKLOADS.indexOf(a.row.workload) - WORKLOADS.indexOf(b.row.workload) ||
      (a.row.job ?? '').localeCompare(b.row.job ?? '') ||
      METRIC_ORDER.indexOf(a.row.metric) - METRIC_ORDER.indexOf(b.row.metric) ||
      (a.row.queued ?? 0) - (b.row.queued ?? 0) ||
      (a.row.concurrency ?? 0) - (b.row.concurrency ?? 0) ||
      ROLE_ORDER.indexOf(a.row.process ?? '') - ROLE_ORDER.indexOf(b.row.process ?? '') ||
      (a.row.variant ?? '').localeCompare(b.row.variant ?? ''),
  );
  const present = SYSTEMS.filter((system) => report.results.some((row) => row.system === system));
  const peers = PEERS.filter((peer) => present.includes(peer));
  const variants = VARIANTS.filter((variant) => present.includes(variant));
  const ratios: [SystemName, SystemName][] = present.includes('gpuflow')
    ? [
        ...variants.map((variant): [SystemName, SystemName] => [variant, 'gpuflow']),
        ...peers.map((peer): [SystemName, SystemName] => ['gpuflow', peer]),
      ]
    : [];
  const header = ['workload', 'metric', 'C', ...present, ...ratios.map(([a, b]) => `${a} ÷ ${b}`)];
  const out = [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`];
  for (const line of sorted) {
    const { row } = line;
    const metric = row.process
      ? `${row.metric} (${row.process})`
      : row.job
        ? `${row.metric} (${row.job}) ↓`
        : `${row.metric}${higherIsBetter(row.metric) ? ' ↑' : ' ↓'}${row.queued === undefined ? '' : `, ${row.queued} queued`}${row.variant ? ` (${row.variant})` : ''}`;
    const cells = [row.workload, metric, row.concurrency === null ? '' : String(row.concurrency)];
    for (const system of present) cells.push(line[system] === undefined ? '—' : String(line[system]));
    for (const [a, b] of ratios) {
      const ours = line[a];
      const theirs = line[b];
      cells.push(ours === undefined || theirs === undefined || theirs === 0 ? '—' : `${round(ours / theirs)}×`);
    }
    out.push(`| ${cells.join(' | ')} |`);
  }
  return out.join('\n');
}

/** What each system ran with, and the machine. */
export function formatSettings(report: BenchReport): string {
  const machine = Object.entries(report.machine)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join('; ');
  const settings = Object.entries(report.settings).map(([system, text]) => `- ${system}: ${text}`);
  return [`Machine: ${machine}`, ...settings].join('\n');
}

/** Writes `bench/results/<timestamp>.json`, and `latest.json` too for a full run; returns the timestamped path. */
export function writeReport(report: BenchReport, options: { latest: boolean }): string {
  const dir = join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(dir, `${stamp}.json`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(path, json);
  if (options.latest) writeFileSync(join(dir, 'latest.json'), json);
  return path;
}
