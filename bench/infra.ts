import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall, initPostgres, pgBinDir } from '../scripts/postgres.js';
import { freePort } from '../scripts/temporal-dev-server.js';
import { startProc, waitUntil, type Cleanup } from './procs.js';

function onPath(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Redis and PostgreSQL come from Debian's packages. Missing ones are installed (as root only), loudly: this
 * changes the machine.
 */
export function ensurePeerPackages(needRedis: boolean, needPostgres: boolean): void {
  const missing = [
    ...(needRedis && !onPath('redis-server') ? ['redis-server'] : []),
    ...(needPostgres && !pgBinDir() ? ['postgresql'] : []),
  ];
  aptInstall('bench', missing, 'or leave the peers out (--systems gpuflow,temporal)');
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolveOpen(true);
    });
    socket.once('error', () => resolveOpen(false));
  });
}

export interface PeerService {
  url: string;
  version: string;
  /** How durable the service is as started (its shipped defaults). */
  durability: string;
}

/** A private redis-server on a free port with its shipped defaults (RDB snapshots, no AOF), data in a temp dir. */
export async function startRedis(cleanup: Cleanup): Promise<PeerService> {
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-bench-redis-'));
  cleanup.add('redis data', () => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const redis = startProc('redis-server', 'redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--daemonize',
    'no',
  ]);
  cleanup.add('redis-server', () => redis.stop());
  await waitUntil('redis-server', () => tcpOpen(port), 30_000);
  const version = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).split(' ')[2] ?? '?';
  return {
    url: `redis://127.0.0.1:${port}`,
    version: `redis ${version.replace('v=', '')}`,
    durability: 'Redis defaults: RDB snapshots, no AOF',
  };
}

/**
 * A private PostgreSQL cluster on a free port, in a temp dir owned by the `postgres` user (PostgreSQL refuses to
 * run as root), with its shipped defaults (fsync and synchronous_commit on).
 */
export async function startPostgres(cleanup: Cleanup): Promise<PeerService> {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-bench-pg-'));
  cleanup.add('postgres data', () => rmSync(dir, { recursive: true, force: true }));
  const { data, run } = initPostgres(bin, dir);
  const port = await freePort();
  run('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'postgres.log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
    '-w',
    'start',
  ]);
  cleanup.add('postgres', () => {
    run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  });
  const version = run('postgres', ['--version']).trim();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    version,
    durability: 'PostgreSQL defaults: fsync on, synchronous_commit on',
  };
}
