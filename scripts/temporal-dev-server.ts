import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../protocol/search-attributes.js';

export interface DevServerOptions {
  cliPath: string;
  /** gRPC port. @defaultValue a free port */
  port?: number;
  /** Web UI port; `null` runs headless. @defaultValue port + 1000 */
  uiPort?: number | null;
  ip?: string;
  namespace?: string;
  /** SQLite file that keeps state across restarts; in memory when absent. */
  dbFilename?: string;
  /** How long to wait for the server to answer, ms. @defaultValue 60000 */
  readyTimeoutMs?: number;
  /** Where the server's own output goes: a file descriptor, or 'inherit'. @defaultValue ignored */
  stdio?: 'inherit' | 'ignore' | number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Its own process group, so a terminal's Ctrl-C reaches only the parent, which stops it in order. */
  detached?: boolean;
  /**
   * Seconds: SIGTERM the server this long after this process dies, even by SIGKILL (see `STOP_WITH_PARENT`), so that
   * clients dying with it can first finish their last calls. Unset: the server outlives this process.
   */
  stopAfterParentS?: number;
  /** Port of the server's Prometheus `/metrics` (the bench counts heartbeat calls there). @defaultValue a random one */
  metricsPort?: number;
  /**
   * `history.transferProcessorMaxPollRPS`: how many times a second a history shard may read its queue of new
   * workflow and activity tasks. The dev server has one shard, so at Temporal's default of 20 every hop of every
   * workflow (a workflow task, an activity task) waits for the next read, up to 50 ms: a one-activity workflow takes
   * about 100 ms whatever its code does. A cluster spreads workflows over hundreds of shards. `null` keeps
   * Temporal's default. @defaultValue DEV_TRANSFER_POLL_RPS (1000)
   */
  transferPollRps?: number | null;
}

/** The dev server's transfer queue read rate (see `DevServerOptions.transferPollRps`). */
export const DEV_TRANSFER_POLL_RPS = 1000;

export interface DevServer {
  readonly address: string;
  readonly uiUrl: string | null;
  readonly process: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Whether something accepts TCP connections on host:port. */
export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolveUse) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolveUse(true);
    });
    socket.once('error', () => resolveUse(false));
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A Go binary cannot notice that its parent died. So `sh` keeps one end of a pipe from this process in a background
 * subshell that blocks reading it, and becomes the server (`exec`, same pid, stdin /dev/null). When this process dies
 * the pipe ends without a line, and the subshell SIGTERMs the server after `$1` seconds (`$$` is the pid the server
 * took over). `stop()` writes a line once the server is gone: the subshell then ends without signalling a pid that
 * may be another process's by then.
 */
const STOP_WITH_PARENT =
  'delay=$1; shift; exec 3<&0; (read -r _ <&3 || { sleep "$delay"; kill -TERM $$; }) & exec "$@" 3<&- </dev/null';

/**
 * Starts `temporal server start-dev` with gpuflow's search attributes registered and waits until its frontend
 * answers. The update check is off: these machines may have no route to the internet.
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort(ip));
  const uiPort = options.uiPort === null ? null : (options.uiPort ?? port + 1000);
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--namespace',
    options.namespace ?? 'default',
  ];
  args.push(...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (options.dbFilename) {
    mkdirSync(dirname(options.dbFilename), { recursive: true });
    args.push('--db-filename', options.dbFilename);
  }
  if (options.metricsPort !== undefined) args.push('--metrics-port', String(options.metricsPort));
  for (const registration of SEARCH_ATTRIBUTE_REGISTRATIONS) args.push('--search-attribute', registration);
  const transferPollRps = options.transferPollRps === undefined ? DEV_TRANSFER_POLL_RPS : options.transferPollRps;
  if (transferPollRps !== null) {
    args.push('--dynamic-config-value', `history.transferProcessorMaxPollRPS=${transferPollRps}`);
  }
  args.push(
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
    '--log-level',
    options.logLevel ?? 'error',
  );

  let exitInfo: string | undefined;
  const tied = options.stopAfterParentS !== undefined;
  const child = spawn(
    tied ? 'sh' : options.cliPath,
    tied
      ? ['-c', STOP_WITH_PARENT, 'sh', String(Math.ceil(options.stopAfterParentS!)), options.cliPath, ...args]
      : args,
    {
      stdio: [tied ? 'pipe' : 'ignore', options.stdio ?? 'ignore', options.stdio ?? 'ignore'],
      detached: options.detached ?? false,
    },
  );
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.once('exit', (code, signal) => (exitInfo = `exited with ${code ?? signal}`));
  const address = `${ip}:${port}`;

  // The subshell that holds the pipe may be gone already (killed with the server's process group).
  child.stdin?.on('error', () => undefined);
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    child.stdin?.end('\n');
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exitInfo) throw new Error(`temporal server start-dev ${exitInfo} (args: ${args.join(' ')})`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.withDeadline(Date.now() + 2000, () =>
          connection.workflowService.describeNamespace({ namespace: options.namespace ?? 'default' }),
        );
        break;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) {
        await stop(1000);
        throw new Error(`Temporal dev server on ${address} did not become ready: ${String(err)}`, { cause: err });
      }
      await sleep(250);
    }
  }
  return { address, uiUrl: uiPort === null ? null : `http://${ip}:${uiPort}`, process: child, stop };
}
