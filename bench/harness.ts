import { cpus, loadavg, release, totalmem } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveTemporalCli, temporalCliVersion } from '../scripts/temporal-cli.js';
import { DEV_TRANSFER_POLL_RPS, freePort, startTemporalDevServer } from '../scripts/temporal-dev-server.js';
import { BACKLOG_FULL, BACKLOG_QUICK, runBacklog, type BacklogSizes } from './backlog.js';
import { batchedRows } from './batched.js';
import { startDriver, type Driver } from './driver-handle.js';
import { ensurePeerPackages, startPostgres, startRedis } from './infra.js';
import { Cleanup, PROJECT_ROOT, sampleRss } from './procs.js';
import { dispatchGaps, median, round, type Percentiles } from './stats.js';
import { SYSTEM_DEFINITIONS } from './systems/index.js';
import type { RunningSystem, SystemContext } from './systems/system.js';
import type { CostJob, ProcessRole, ResultRow, SystemName, TickTimes, WorkloadName } from './types.js';

/** How much work each workload does. */
export interface Sizes {
  warmup: number;
  latencyJobs: number;
  /** Concurrency → jobs per repetition. */
  throughputJobs: Record<number, number>;
  gapJobs: number;
  /** Pause between queueing the 10 ms jobs and starting their worker, so that all of them are queued, ms. */
  settleMs: number;
  requests: number;
  requestConcurrency: number;
  /** Jobs per repetition of each variant of the `batched` workload. */
  batchedJobs: number;
  reps: number;
  backlog: BacklogSizes;
  /** How long the cost workload's progress job runs, s (it reports progress every second). */
  costProgressSeconds: number;
}

export const FULL: Sizes = {
  warmup: 20,
  latencyJobs: 150,
  throughputJobs: { 1: 60, 10: 300, 50: 600 },
  gapJobs: 200,
  settleMs: 2000,
  requests: 300,
  requestConcurrency: 10,
  batchedJobs: 640,
  reps: 3,
  backlog: BACKLOG_FULL,
  costProgressSeconds: 60,
};
export const QUICK: Sizes = {
  warmup: 3,
  latencyJobs: 20,
  throughputJobs: { 1: 10, 10: 40, 50: 100 },
  gapJobs: 20,
  settleMs: 1000,
  requests: 40,
  requestConcurrency: 10,
  batchedJobs: 160,
  reps: 1,
  backlog: BACKLOG_QUICK,
  costProgressSeconds: 60,
};

export interface BenchOptions {
  systems: readonly SystemName[];
  workloads: readonly WorkloadName[];
  sizes: Sizes;
  /**
   * The Temporal dev server keeps its state in a SQLite file (as `npm run dev` does) instead of in memory (as
   * `temporal server start-dev` does by default).
   */
  temporalDbFile?: boolean;
  /** Temporal's own transfer queue read rate (20 a second) instead of the dev stack's (see DevServerOptions). */
  temporalStockPollRate?: boolean;
  log?: (line: string) => void;
  /** Where the run registers what it starts; the caller may run it early (Ctrl-C). @defaultValue a new one */
  cleanup?: Cleanup;
}

export interface BenchReport {
  machine: Record<string, unknown>;
  settings: Partial<Record<SystemName, string>>;
  results: ResultRow[];
}

/** Starts what the chosen systems need, runs the workloads against each system in turn, stops everything. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cleanup = options.cleanup ?? new Cleanup();
  const want = new Set(options.workloads);
  const results: ResultRow[] = [];
  const settings: BenchReport['settings'] = {};
  const machine: Record<string, unknown> = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    kernel: release(),
    date: new Date().toISOString(),
    // On a shared machine the figures move with its load: the 1-minute load average at the start and the end.
    loadStart: round(loadavg()[0]!, 1),
  };
  const has = (system: SystemName): boolean => options.systems.includes(system);
  const startedAt = Date.now();
  try {
    ensurePeerPackages(has('bullmq'), has('pgboss'));
    const context: SystemContext = {
      capacity: Math.max(...Object.keys(options.sizes.throughputJobs).map(Number)),
      cleanup,
    };
    for (const system of options.systems) {
      if ((system === 'temporal' || system.startsWith('gpuflow')) && !context.temporalAddress) {
        const cliPath = resolveTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH || undefined });
        machine.temporalServer = temporalCliVersion(cliPath).replace(/\s+/g, ' ');
        const dir = mkdtempSync(join(tmpdir(), 'gpuflow-bench-temporal-'));
        cleanup.add('temporal data', () => rmSync(dir, { recursive: true, force: true }));
        const metricsPort = await freePort();
        const server = await startTemporalDevServer({
          cliPath,
          uiPort: null,
          metricsPort,
          ...(options.temporalDbFile ? { dbFilename: join(dir, 'temporal.sqlite') } : {}),
          ...(options.temporalStockPollRate ? { transferPollRps: null } : {}),
        });
        cleanup.add('temporal server', () => server.stop());
        context.temporalAddress = server.address;
        context.temporalMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
        machine.temporalStore = options.temporalDbFile ? 'SQLite file' : 'in memory (start-dev default)';
        machine.temporalTransferPollRps = options.temporalStockPollRate ? 20 : DEV_TRANSFER_POLL_RPS;
      }
      if (system === 'bullmq' && !context.redisUrl) {
        const redis = await startRedis(cleanup);
        context.redisUrl = redis.url;
        machine.redis = redis.version;
        machine.bullmq = packageVersion('bullmq');
      }
      if (system === 'pgboss' && !context.postgresUrl) {
        const postgres = await startPostgres(cleanup);
        context.postgresUrl = postgres.url;
        machine.postgres = postgres.version;
        machine.pgBoss = packageVersion('pg-boss');
      }
      const definition = await SYSTEM_DEFINITIONS[system]();
      settings[system] = definition.settings;
      const runs = definition.workloads ? new Set(definition.workloads) : undefined;
      const wanted = new Set([...want].filter((workload) => !runs || runs.has(workload)));
      log(`bench: ${system}: starting`);
      const running = await definition.start(context);
      const driver = await startDriver(system, running.driverConfig);
      cleanup.add(`${system} driver`, () => driver.proc.stop());
      try {
        results.push(...(await runWorkloads(system, running, driver, wanted, options.sizes, log)));
        if (wanted.has('cost')) results.push(...(await runCost(system, context, driver, options.sizes, log)));
      } finally {
        await driver.close();
        await running.stop();
      }
    }
  } finally {
    await cleanup.runAll();
  }
  machine.durationS = round((Date.now() - startedAt) / 1000, 1);
  machine.loadEnd = round(loadavg()[0]!, 1);
  return { machine, settings, results };
}

/** One job of each cost kind, counted exactly (no repetitions: the counts do not vary from run to run). */
async function runCost(
  system: SystemName,
  context: SystemContext,
  driver: Driver,
  sizes: Sizes,
  log: (line: string) => void,
): Promise<ResultRow[]> {
  if (system !== 'gpuflow' && system !== 'temporal') return [];
  log(`bench: ${system}: cost of a no-op job and of a ${sizes.costProgressSeconds} s job reporting progress`);
  const rows = await driver.call<{ job: CostJob; metric: ResultRow['metric']; value: number }[]>({
    op: 'cost',
    temporalAddress: context.temporalAddress!,
    metricsUrl: context.temporalMetricsUrl!,
    progressSeconds: sizes.costProgressSeconds,
  });
  return rows.map((row) => ({
    workload: 'cost',
    system,
    metric: row.metric,
    concurrency: 1,
    value: row.value,
    job: row.job,
  }));
}

function packageVersion(name: string): string {
  const file = join(PROJECT_ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

async function runWorkloads(
  system: SystemName,
  running: RunningSystem,
  driver: Driver,
  want: ReadonlySet<WorkloadName>,
  sizes: Sizes,
  log: (line: string) => void,
): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const add = (workload: WorkloadName, metric: ResultRow['metric'], concurrency: number | null, value: number) =>
    rows.push({ workload, system, metric, concurrency, value: round(value) });
  const { reps, warmup } = sizes;
  const addFigures = async (workload: WorkloadName): Promise<void> => {
    for (const figure of (await running.figures?.()) ?? []) add(workload, figure.metric, 1, figure.value);
  };

  if (want.has('latency')) {
    log(`bench: ${system}: latency`);
    const p = await driver.call<Percentiles>({ op: 'latency', n: sizes.latencyJobs, reps, warmup });
    add('latency', 'p50_ms', 1, p.p50);
    add('latency', 'p95_ms', 1, p.p95);
    add('latency', 'p99_ms', 1, p.p99);
    await addFigures('latency');
  }

  if (want.has('throughput') || want.has('memory')) {
    const pids = new Map<string, number>([['client', driver.proc.pid]]);
    for (const [role, proc] of running.processes) pids.set(role, proc.pid);
    const sampler = sampleRss(pids);
    const levels = Object.keys(sizes.throughputJobs).map(Number);
    for (const concurrency of want.has('throughput') ? levels : [Math.max(...levels)]) {
      log(`bench: ${system}: throughput, ${concurrency} in flight`);
      const n = sizes.throughputJobs[concurrency]!;
      const rate = await driver.call<number>({ op: 'throughput', n, reps, concurrency });
      if (want.has('throughput')) add('throughput', 'jobs_per_s', concurrency, rate);
    }
    const peaks = sampler.stop();
    if (want.has('memory')) {
      for (const [role, mb] of peaks) {
        rows.push({
          workload: 'memory',
          system,
          metric: 'rss_mb',
          concurrency: null,
          value: round(mb, 1),
          process: role as ProcessRole,
        });
      }
    }
  }

  if (want.has('dispatch-gap')) {
    const gaps: number[] = [];
    for (let rep = 0; rep < reps; rep += 1) {
      log(`bench: ${system}: dispatch gap, ${sizes.gapJobs} queued 10 ms jobs (${rep + 1}/${reps})`);
      const keys = await driver.call<string[]>({ op: 'enqueue-ticks', n: sizes.gapJobs });
      // Let every queued job reach its worker's queue (gpuflow and Temporal: the workflow schedules the activity).
      await sleep(sizes.settleMs);
      const worker = await running.startTickWorker();
      try {
        const times = await driver.call<TickTimes[]>({ op: 'wait-ticks', keys });
        gaps.push(median(dispatchGaps(times)));
      } finally {
        await worker.stop();
      }
    }
    add('dispatch-gap', 'gap_ms', 1, median(gaps));
    await addFigures('dispatch-gap');
  }

  if (want.has('batched')) rows.push(...(await batchedRows(system, running, driver, sizes, log)));

  for (const workload of ['dedup', 'status'] as const) {
    if (
      !want.has(workload) ||
      (workload === 'dedup' ? system !== 'gpuflow' : !['gpuflow', 'temporal'].includes(system))
    )
      continue;
    log(`bench: ${system}: ${workload}`);
    const concurrency = sizes.requestConcurrency;
    const result = await driver.call<{ p50: number; reqPerS: number }>({
      op: workload,
      n: sizes.requests,
      reps,
      concurrency,
    });
    add(workload, 'p50_ms', 1, result.p50);
    add(workload, 'req_per_s', concurrency, result.reqPerS);
  }

  const { startBacklogWorker } = running;
  if (want.has('backlog') && startBacklogWorker) {
    rows.push(...(await runBacklog(system, { ...running, startBacklogWorker }, driver, sizes.backlog, log)));
  }
  return rows;
}
