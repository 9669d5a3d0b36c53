import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT, isExecutable } from './temporal-cli.js';

/**
 * The S3-compatible server the tests run S3BlobStore against: moto's standalone server (PyPI `moto[server]`),
 * installed like the Temporal CLI into a venv under `.tools/` (python3 -m venv + pip: a package registry only).
 */
export const MOTO_VERSION = '5.2.5';

const VENV = join(PROJECT_ROOT, '.tools', 's3-venv');
const MOTO_SERVER = join(VENV, 'bin', 'moto_server');

/** `.tools/s3-venv/bin/moto_server`, installed first if missing. */
export function resolveMotoServer(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): string {
  if (isExecutable(MOTO_SERVER)) return MOTO_SERVER;
  log(`moto_server not found: installing moto[server]==${MOTO_VERSION} from PyPI into .tools/s3-venv ...`);
  mkdirSync(join(PROJECT_ROOT, '.tools'), { recursive: true });
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', VENV]],
    [join(VENV, 'bin', 'pip'), ['install', '--disable-pip-version-check', '--quiet', `moto[server]==${MOTO_VERSION}`]],
  ];
  for (const [command, args] of steps) {
    const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) {
      throw new Error(
        `could not install the S3 test server: ${command} ${args.join(' ')} exited with ${result.status ?? result.signal}. ` +
          `Install it by hand: python3 -m venv .tools/s3-venv && .tools/s3-venv/bin/pip install 'moto[server]==${MOTO_VERSION}'`,
      );
    }
  }
  if (!isExecutable(MOTO_SERVER)) throw new Error(`moto[server]==${MOTO_VERSION} did not provide bin/moto_server`);
  return MOTO_SERVER;
}

export interface S3TestServer {
  /** `http://127.0.0.1:<port>`: use path-style addressing and any credentials. */
  endpoint: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Starts moto_server on a free loopback port (state in memory) and waits until it answers. */
export async function startS3TestServer(): Promise<S3TestServer> {
  const path = resolveMotoServer();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(path, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode} before it answered`);
    const up = await fetch(`${endpoint}/`).then(
      (res) => res.ok,
      () => false,
    );
    if (up) return { endpoint, stop };
    await sleep(200);
  }
  await stop();
  throw new Error(`moto_server did not answer on ${endpoint} within 60 s`);
}

// `tsx scripts/s3-test-server.ts` installs it (if needed) and prints the path: CI runs it before the tests.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${resolveMotoServer()}\n`);
}
