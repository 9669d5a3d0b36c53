import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
import { logFormatOf, type Env } from '../config/env.js';
import { prettyTemporalEntry } from './pretty-log.js';

/** SDK messages that are expected in our setup and only confuse users (a job worker has no workflows, ...). */
const EXPECTED = [/^No (workflows|activities|Nexus services) registered/];

const SDK_LEVELS: Record<Env['GPUFLOW_LOG_LEVEL'], LogLevel> = {
  fatal: 'ERROR',
  error: 'ERROR',
  warn: 'WARN',
  info: 'INFO',
  debug: 'DEBUG',
  trace: 'TRACE',
  silent: 'ERROR',
};

/**
 * Installs the Temporal Runtime once per worker process: our log level, without the expected noise, and without
 * the SDK's own signal handlers, so that this process decides what SIGINT / SIGTERM do (see `onShutdownSignal`).
 * With `sdkMetricsAddress` (`host:port`), the SDK serves its own Prometheus metrics there (poll latencies, slots,
 * task counts: `temporal_*`); the SDK's exporter listens by itself, apart from the worker's `/metrics`.
 */
export function installWorkerRuntime(env: Env, sdkMetricsAddress?: string): void {
  const fallback = new DefaultLogger('TRACE');
  const print = (entry: LogEntry): void => {
    if (EXPECTED.some((pattern) => pattern.test(entry.message))) return;
    fallback.log(entry.level, entry.message, entry.meta);
  };
  const debug = env.GPUFLOW_LOG_LEVEL === 'debug' || env.GPUFLOW_LOG_LEVEL === 'trace';
  const pretty = (entry: LogEntry): void => {
    if (EXPECTED.some((pattern) => pattern.test(entry.message))) return;
    const line = prettyTemporalEntry(entry, debug);
    if (line !== undefined) process.stdout.write(`${line}\n`);
  };
  Runtime.install({
    // Pretty mode takes the SDK's debug entries too: a job's start and end are among them.
    logger:
      logFormatOf(env) === 'pretty' && env.GPUFLOW_LOG_LEVEL !== 'silent'
        ? new DefaultLogger(debug ? SDK_LEVELS[env.GPUFLOW_LOG_LEVEL] : 'DEBUG', pretty)
        : new DefaultLogger(SDK_LEVELS[env.GPUFLOW_LOG_LEVEL], print),
    shutdownSignals: [],
    // Temporal's worker heartbeat (ListWorkers, `GET /v1/workers`): the SDK's default is 60 s.
    workerHeartbeatInterval: env.GPUFLOW_WORKER_HEARTBEAT_INTERVAL_MS,
    ...(sdkMetricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetricsAddress, countersTotalSuffix: true } } } }
      : {}),
  });
}

/** The first SIGINT / SIGTERM starts a graceful stop; a second one exits at once. */
export function onShutdownSignal(stop: (signal: NodeJS.Signals) => void): void {
  let received = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (received) process.exit(130);
      received = true;
      stop(signal);
    });
  }
}
