import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * PostgreSQL from Debian's packages, for the bench's peer systems and the cluster test: found under
 * /usr/lib/postgresql, installed with apt-get when missing (as root only, loudly), and run as a private cluster in
 * a directory of the caller's.
 */
const PG_ROOT = '/usr/lib/postgresql';

/** The bin folder of the newest PostgreSQL installed from Debian's packages. */
export function pgBinDir(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((name) => existsSync(join(PG_ROOT, name, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(PG_ROOT, versions[0], 'bin') : undefined;
}

/**
 * Installs Debian packages with apt-get, saying so first in a banner: this changes the machine. Only root can;
 * anyone else gets an error with the command to run and `otherwise` (what else they can do).
 */
export function aptInstall(who: string, packages: string[], otherwise: string): void {
  if (packages.length === 0) return;
  const banner = '!'.repeat(100);
  process.stderr.write(
    `${banner}\n!!! ${who}: installing ${packages.join(' ')} from Debian's packages (apt-get)\n${banner}\n`,
  );
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${who} needs ${packages.join(' and ')}, and only root can install them: run ` +
        `\`sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}\`${otherwise ? `, ${otherwise}` : ''}`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
}

/** The PostgreSQL bin folder, after installing Debian's `postgresql` package if there is none. */
export function ensurePostgres(who: string): string {
  if (!pgBinDir()) aptInstall(who, ['postgresql'], '');
  const bin = pgBinDir();
  if (!bin) throw new Error(`PostgreSQL binaries not found under ${PG_ROOT} after installing Debian's postgresql`);
  return bin;
}

export interface PostgresDir {
  bin: string;
  /** The data directory (initdb done), inside `dir`. */
  data: string;
  /** Runs one of PostgreSQL's programs as the user that owns the data (`postgres` when we are root). */
  run: (program: string, args: string[]) => string;
  /** The argv that starts `program` as that user. */
  command: (program: string, args: string[]) => [string, ...string[]];
}

/**
 * A fresh cluster in `dir` (created if needed): trust auth for local and 127.0.0.1 connections, superuser
 * `postgres`. As root the folder is handed to the `postgres` user, because PostgreSQL refuses to run as root.
 */
export function initPostgres(bin: string, dir: string): PostgresDir {
  mkdirSync(dir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const command = (program: string, args: string[]): [string, ...string[]] =>
    asRoot ? ['runuser', '-u', 'postgres', '--', join(bin, program), ...args] : [join(bin, program), ...args];
  const run = (program: string, args: string[]): string => {
    const [file, ...rest] = command(program, args);
    return execFileSync(file, rest, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync']);
  return { bin, data, run, command };
}

/**
 * The argv that runs `argv` tied to this process by the kernel (`setpriv --pdeathsig`, util-linux): if this process
 * dies, even by SIGKILL, the child gets SIGTERM instead of living on. As is where there is no setpriv.
 */
export function tiedToThisProcess(argv: [string, ...string[]]): [string, ...string[]] {
  const tied = spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;
  return tied ? ['setpriv', '--pdeathsig', 'TERM', ...argv] : argv;
}

/**
 * Runs `postgres` in the foreground as a child of this process, tied to it (`tiedToThisProcess`; runuser passes the
 * SIGTERM on). Unix socket in `socketDir`, TCP on 127.0.0.1:`port` only.
 */
export function spawnPostgres(pg: PostgresDir, port: number, socketDir: string, logFile: number): ChildProcess {
  const [file, ...args] = tiedToThisProcess(
    pg.command('postgres', ['-D', pg.data, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1']),
  );
  return spawn(file, args, { stdio: ['ignore', logFile, logFile] });
}
