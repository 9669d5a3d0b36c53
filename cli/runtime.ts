import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
import type { Env } from '../config/env.js';

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
  Runtime.install({
    logger: new DefaultLogger(SDK_LEVELS[env.GPUFLOW_LOG_LEVEL], print),
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

/**
 * Under `gpuflow dev` a child's stdin is a pipe from dev. When dev dies, even by SIGKILL, the pipe closes and the
 * child stops itself as if sent SIGTERM, instead of living on as an orphan that holds ports and the SQLite file.
 */
export function stopWhenParentExits(): void {
  process.stdin.once('end', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.resume();
  // Watching must not keep a drained process alive.
  (process.stdin as { unref?: () => void }).unref?.();
}
