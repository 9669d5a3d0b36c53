import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { childEnv, type Env } from '../config/env.js';
import { PROJECT_ROOT, resolveTemporalCli } from '../scripts/temporal-cli.js';
import { portInUse, startTemporalDevServer, type DevServer } from '../scripts/temporal-dev-server.js';

const BIN = join(PROJECT_ROOT, 'bin', 'gpuflow.js');
const EXAMPLE_JOBS = join(PROJECT_ROOT, 'examples', 'jobs');
/** Children get this long to drain after SIGTERM before they are killed. */
const CHILD_GRACE_MS = 8000;
/** Jobs still running when the dev stack stops are handed back after this long, and retried on the next start. */
const DEV_WORKER_GRACE_S = 3;

function prefixOutput(child: ChildProcess, name: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
  }
}

/**
 * `gpuflow dev`: the whole stack in one terminal, state kept in `<data dir>/temporal.sqlite`. Ctrl-C (SIGINT) or
 * SIGTERM stops the children first (workers drain), then the Temporal server.
 */
export async function runDev(env: Env): Promise<void> {
  const dataDir = resolve(env.GPUFLOW_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const port = env.GPUFLOW_TEMPORAL_PORT;
  for (const [what, p] of [
    ['Temporal', port],
    ['Temporal UI', port + 1000],
    ['API', env.GPUFLOW_API_PORT],
  ] as const) {
    if (await portInUse('127.0.0.1', p)) {
      throw new Error(`port ${p} (${what}) is already in use: is another gpuflow dev or Temporal server running?`);
    }
  }

  const cliPath = resolveTemporalCli({ explicitPath: env.TEMPORAL_CLI_PATH });
  const log = openSync(join(dataDir, 'temporal.log'), 'a');
  console.log(`[dev] starting Temporal dev server (${cliPath}), state in ${join(dataDir, 'temporal.sqlite')}`);
  const server: DevServer = await startTemporalDevServer({
    cliPath,
    port,
    uiPort: port + 1000,
    namespace: env.TEMPORAL_NAMESPACE,
    dbFilename: join(dataDir, 'temporal.sqlite'),
    stdio: log,
    logLevel: 'warn',
  });

  const jobModules = readdirSync(EXAMPLE_JOBS)
    .filter((file) => /\.(ts|js)$/.test(file))
    .map((file) => join(EXAMPLE_JOBS, file));
  const childrenEnv = childEnv({ TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE });
  const specs: [string, string[]][] = [
    ['orchestrator', ['orchestrator']],
    ['worker', ['worker', ...jobModules, '--capacity', '4', '--grace', String(DEV_WORKER_GRACE_S)]],
    ['api', ['api']],
  ];
  const children = specs.map(([name, args]) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: childrenEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    prefixOutput(child, name);
    return { name, child, exited: new Promise<void>((done) => child.once('exit', () => done())) };
  });

  let stopping = false;
  const stop = async (reason: string, exitCode: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      console.log(`[dev] ${reason}: stopping`);
      for (const { child } of children) if (child.exitCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => children.forEach(({ child }) => child.kill('SIGKILL')), CHILD_GRACE_MS);
      await Promise.all(children.map(({ exited }) => exited));
      clearTimeout(killer);
      await server.stop();
      console.log('[dev] stopped');
      process.exit(exitCode);
    }
    return new Promise<never>(() => undefined);
  };
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  for (const { name, child } of children) {
    child.once('exit', (code, signal) => {
      if (!stopping) void stop(`${name} exited unexpectedly (${code ?? signal})`, 1);
    });
  }

  const apiUrl = `http://${env.GPUFLOW_API_HOST}:${env.GPUFLOW_API_PORT}`;
  for (let tries = 0; !stopping; tries += 1) {
    const ready = await fetch(`${apiUrl}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    if (tries > 240) return void stop('the API did not become ready within 60 s', 1);
    await sleep(250);
  }
  if (stopping) return;
  console.log(
    [
      '',
      '  gpuflow dev stack is up',
      `    API            ${apiUrl}   (OpenAPI docs: ${apiUrl}/docs)`,
      `    Temporal UI    ${server.uiUrl ?? '(headless)'}`,
      `    Temporal gRPC  ${server.address}`,
      `    job types      ${jobModules.map((file) => file.replace(/^.*\//, '').replace(/\.(ts|js)$/, '')).join(', ')}`,
      `    state          ${dataDir}`,
      '',
      `  try: curl -X POST ${apiUrl}/v1/jobs -H 'content-type: application/json' -d '{"type":"echo","input":{"a":1}}'`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}
