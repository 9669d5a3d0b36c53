import { existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync, type FSWatcher } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childEnv, type Env } from '../config/env.js';
import { API_NODE_FLAGS } from '../config/node-flags.js';
import { PROJECT_ROOT, resolveTemporalCli } from '../scripts/temporal-cli.js';
import { portInUse, startTemporalDevServer, type DevServer } from '../scripts/temporal-dev-server.js';
import { reapStaleServer, spawnDevChild, writePidFile, type DevChild } from './dev-children.js';
import { guardStdout, watchParent } from './dev-output.js';
import { stopChild, watchModules } from './dev-worker.js';

const BIN = join(PROJECT_ROOT, 'bin', 'gpuflow.js');
const EXAMPLE_JOBS = join(PROJECT_ROOT, 'examples', 'jobs');
/** Children get this long to drain after SIGTERM before they are killed. */
const CHILD_GRACE_MS = 8000;
/** Jobs still running when the dev stack stops are handed back after this long, and retried on the next start. */
const DEV_WORKER_GRACE_S = 3;
/** Webhooks of the dev stack may go to this machine (a receiver under development), on top of the user's list. */
const DEV_WEBHOOK_ALLOW_PRIVATE = ['127.0.0.0/8', '::1/128', 'localhost'];

/**
 * The environment of dev's children. They talk to dev's own Temporal server only: none of the user's Temporal
 * settings (a Cloud profile, an API key, TLS) carry over, and a profile file of their own, written here, stands in
 * for the user's default temporal.toml.
 */
export function devChildrenEnv(
  env: Env,
  temporalAddress: string,
  dataDir: string,
  temporalUiUrl?: string | null,
): NodeJS.ProcessEnv {
  const devProfile = join(dataDir, 'temporal.toml');
  writeFileSync(
    devProfile,
    `# Written by gpuflow dev for its processes (temporal --config-file ${devProfile} works too).\n` +
      `[profile.default]\naddress = ${JSON.stringify(temporalAddress)}\n` +
      `namespace = ${JSON.stringify(env.TEMPORAL_NAMESPACE)}\n`,
  );
  const usersTemporalSetting = (name: string): boolean => name.startsWith('TEMPORAL_') && name !== 'TEMPORAL_CLI_PATH';
  return childEnv(
    {
      TEMPORAL_CONFIG_FILE: devProfile,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE,
      GPUFLOW_DEV_CHILD: 'true',
      GPUFLOW_WEBHOOK_ALLOW_PRIVATE: [...DEV_WEBHOOK_ALLOW_PRIVATE, ...env.GPUFLOW_WEBHOOK_ALLOW_PRIVATE].join(','),
      // The API and the worker share the directory blob store under it, whatever their working directory.
      GPUFLOW_DATA_DIR: dataDir,
      // Every job's view then links to its page in the dev server's UI.
      ...(temporalUiUrl ? { GPUFLOW_TEMPORAL_UI_URL: temporalUiUrl } : {}),
    },
    usersTemporalSetting,
  );
}

export interface DevOptions {
  /** Job modules for the worker; the demo jobs in examples/jobs when empty. */
  modules: string[];
  /** Restart the worker when a module (or a file beside it) changes. */
  watch: boolean;
}

function jobModulesOf(options: DevOptions): string[] {
  if (options.modules.length > 0) {
    const missing = options.modules.filter((file) => !existsSync(file));
    if (missing.length > 0) throw new Error(`no such job module: ${missing.join(', ')}`);
    return options.modules.map((file) => resolve(file));
  }
  return readdirSync(EXAMPLE_JOBS)
    .filter((file) => /\.(ts|js)$/.test(file))
    .map((file) => join(EXAMPLE_JOBS, file));
}

/**
 * `gpuflow dev`: the whole stack in one terminal, state kept in `<data dir>/temporal.sqlite`. Ctrl-C (SIGINT) or
 * SIGTERM stops the children first (workers drain), then the Temporal server; a second one kills at once.
 */
export async function runDev(env: Env, options: DevOptions = { modules: [], watch: false }): Promise<void> {
  let server: DevServer | undefined;
  let children: DevChild[] = [];
  let stopping = false;
  const write = guardStdout(() => void stop('stdout closed', 0));
  const log = (line: string): void => write(`[dev] ${line}\n`);
  const jobModules = jobModulesOf(options);
  const dataDir = resolve(env.GPUFLOW_DATA_DIR);
  const pidFile = join(dataDir, 'temporal.pid');

  const stop = async (reason: string, exitCode: number): Promise<void> => {
    if (stopping) {
      // Second signal: no more waiting.
      for (const { child } of children) child.kill('SIGKILL');
      server?.process.kill('SIGKILL');
      process.exit(exitCode || 130);
    }
    stopping = true;
    log(`${reason}: stopping`);
    for (const watcher of watchers) watcher.close();
    await Promise.all(children.map((child) => stopChild(child, CHILD_GRACE_MS)));
    await server?.stop();
    rmSync(pidFile, { force: true });
    log('stopped');
    process.exit(exitCode);
  };
  // Installed first: a signal during start-up must stop whatever has started so far.
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGHUP', () => void stop('SIGHUP', 0));
  watchParent(() => void stop('the process that started dev is gone', 0));
  let watchers: FSWatcher[] = [];

  mkdirSync(dataDir, { recursive: true });
  await reapStaleServer(pidFile, log);
  const port = env.GPUFLOW_TEMPORAL_PORT;
  const ports = [
    ['Temporal', port],
    ['Temporal UI', port + 1000],
    ['API', env.GPUFLOW_API_PORT],
  ] as const;
  for (const [what, p] of ports) {
    if (await portInUse('127.0.0.1', p)) {
      throw new Error(`port ${p} (${what}) is already in use: is another gpuflow dev or Temporal server running?`);
    }
  }

  const cliPath = resolveTemporalCli({ explicitPath: env.TEMPORAL_CLI_PATH });
  log(`starting Temporal dev server (${cliPath}), state in ${join(dataDir, 'temporal.sqlite')}`);
  server = await startTemporalDevServer({
    cliPath,
    port,
    uiPort: port + 1000,
    namespace: env.TEMPORAL_NAMESPACE,
    dbFilename: join(dataDir, 'temporal.sqlite'),
    stdio: openSync(join(dataDir, 'temporal.log'), 'a'),
    logLevel: 'warn',
    detached: true,
    // Should dev be killed outright, its children stop by themselves: the server outlives them by this much, as in
    // an ordinary stop, so that the worker can hand its running jobs back.
    stopAfterParentS: DEV_WORKER_GRACE_S + 2,
  });
  writePidFile(pidFile, server.process.pid);
  // Pids, here and for each child: which processes are the stack's, should one ever need a signal of its own.
  log(`Temporal dev server ready (pid ${server.process.pid})`);
  if (stopping) return;

  const childrenEnv = devChildrenEnv(env, server.address, dataDir, server.uiUrl);
  const workerArgs = ['worker', ...jobModules, '--capacity', '4', '--grace', String(DEV_WORKER_GRACE_S)];
  const start = (name: string, args: string[]): DevChild => {
    const nodeFlags = name === 'api' ? API_NODE_FLAGS : [];
    const started = spawnDevChild(name, process.execPath, [...nodeFlags, BIN, ...args], childrenEnv, write);
    log(`${name} started (pid ${started.child.pid})`);
    started.child.once('exit', (code, signal) => {
      if (stopping || restarting.has(started)) return;
      // Under --watch a worker that dies (a module that does not load, say) waits for the next change.
      if (options.watch && name === 'worker') log(`worker exited (${code ?? signal}); it restarts on the next change`);
      else void stop(`${name} exited unexpectedly (${code ?? signal})`, 1);
    });
    started.child.once('error', (err) => {
      if (!stopping) void stop(`${name} could not start: ${err.message}`, 1);
    });
    return started;
  };
  const restarting = new Set<DevChild>();
  children = [start('orchestrator', ['orchestrator']), start('worker', workerArgs), start('api', ['api'])];
  if (options.watch) {
    watchers = watchModules(jobModules, (file) => {
      if (stopping) return;
      const old = children.find(({ name }) => name === 'worker')!;
      restarting.add(old);
      log(`${file} changed: restarting the worker`);
      void stopChild(old, CHILD_GRACE_MS).then(() => {
        if (stopping) return;
        children = children.map((child) => (child === old ? start('worker', workerArgs) : child));
      });
    });
  }

  const apiUrl = `http://${env.GPUFLOW_API_HOST}:${env.GPUFLOW_API_PORT}`;
  for (let tries = 0; !stopping; tries += 1) {
    const ready = await fetch(`${apiUrl}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    if (tries > 240) return stop('the API did not become ready within 60 s', 1);
    await sleep(250);
  }
  if (stopping) return;
  write(
    [
      '',
      '  gpuflow dev stack is up',
      `    API            ${apiUrl}   (OpenAPI docs: ${apiUrl}/docs)`,
      `    Temporal UI    ${server.uiUrl ?? '(headless)'}`,
      `    Temporal gRPC  ${server.address}`,
      `    job modules    ${jobModules.map((file) => relative(process.cwd(), file) || file).join(', ')}`,
      `    state          ${dataDir}`,
      '',
      `  try: curl -X POST ${apiUrl}/v1/jobs -H 'content-type: application/json' -d '{"type":"echo","input":{"a":1}}'`,
      options.watch ? `  watching ${jobModules.length} job module(s): the worker restarts when one changes.` : '',
      '  Ctrl-C stops everything.',
      '',
    ]
      .filter((line, i, all) => line !== '' || all[i - 1] !== '')
      .join('\n') + '\n',
  );
}
