import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../protocol/search-attributes.js';
import { resolveClusterTools, TEMPORAL_SERVER_VERSION } from './cluster-tools.js';
import { ensurePostgres, initPostgres, spawnPostgres, tiedToThisProcess, type PostgresDir } from './postgres.js';
import { DYNAMIC_CONFIG, freeServerPort, serverConfig, SQL_PASSWORD, SQL_USER } from './temporal-cluster-config.js';
import { freePort } from './temporal-dev-server.js';
import { isRunning } from './pid-alive.js';

/**
 * A real Temporal cluster on this machine, as an operator runs one: `temporal-server` built from the Go module (see
 * cluster-tools.ts) on a private PostgreSQL from Debian's packages, both schemas created and migrated by Temporal's
 * own `temporal-sql-tool`, the namespace registered, gpuflow's search attributes added through the operator API.
 * Everything lives in one temp dir and on free ports of 127.0.0.1; the processes are tied to this one, so they
 * stop with it even when it is killed.
 */

/** Long enough to read every job of a run back. */
const RETENTION = '24 hours';

export interface TemporalCluster {
  /** Frontend gRPC, `127.0.0.1:<port>`. */
  address: string;
  namespace: string;
  /** PostgreSQL, `postgres://temporal@127.0.0.1:<port>`. */
  postgresUrl: string;
  /** The temp dir: config, PostgreSQL data, both logs (temporal.log, postgres.log). */
  dir: string;
  /** Stops the server, then PostgreSQL, and removes the dir. Idempotent. */
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((done) => child.once('exit', () => done()));
}

/**
 * The search attributes that the dev server gets with `--search-attribute` (the same list), added through the
 * operator API as on any cluster. All are Keyword. Returns those it added.
 */
async function addSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const keyword = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  const names = SEARCH_ATTRIBUTE_REGISTRATIONS.map((registration) => registration.replace(/=Keyword$/, ''));
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = names.filter((name) => !(name in (existing.customAttributes ?? {})));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((name) => [name, keyword])),
    });
  }
  return missing;
}

const DIR_PREFIX = 'gpuflow-cluster-';

/**
 * The processes die with their owner (see above), but a run stopped by Ctrl-C or SIGKILL may leave its temp dir:
 * remove those whose owner is gone (or that never got one, after ten minutes).
 */
function reapAbandonedDirs(): void {
  for (const name of readdirSync(tmpdir()).filter((entry) => entry.startsWith(DIR_PREFIX))) {
    const dir = join(tmpdir(), name);
    try {
      const owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
      if (isRunning(owner)) continue;
    } catch {
      if (Date.now() - statSync(dir).mtimeMs < 600_000) continue;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

async function retry<T>(what: string, attempt: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms: ${String(err)}`, { cause: err });
      await sleep(500);
    }
  }
}

export async function startTemporalCluster(
  options: { namespace?: string; log?: (line: string) => void } = {},
): Promise<TemporalCluster> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[cluster] ${line}\n`));
  const namespace = options.namespace ?? 'default';
  const tools = resolveClusterTools(log);
  const pgBin = ensurePostgres('test:cluster');
  reapAbandonedDirs();
  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const children: ChildProcess[] = [];
  let stopped: Promise<void> | undefined;
  // PostgreSQL runs as its own user (as root: `postgres`), which must reach its folder inside this one.
  chmodSync(dir, 0o755);
  let pg: PostgresDir | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      const [server, postgres] = children;
      if (server && server.exitCode === null && server.signalCode === null) {
        server.kill('SIGTERM');
        const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
        await exited(server);
        clearTimeout(timer);
      }
      if (pg && postgres && postgres.exitCode === null && postgres.signalCode === null) {
        try {
          pg.run('pg_ctl', ['-D', pg.data, '-m', 'fast', '-w', 'stop']);
        } catch {
          postgres.kill('SIGKILL');
        }
        await exited(postgres);
      }
      rmSync(dir, { recursive: true, force: true });
    })());
  try {
    const db = initPostgres(pgBin, join(dir, 'pg'));
    pg = db;
    const pgPort = await freePort();
    log(`PostgreSQL (${db.run('postgres', ['--version']).trim()}) on 127.0.0.1:${pgPort}`);
    const postgres = spawnPostgres(db, pgPort, join(dir, 'pg'), openSync(join(dir, 'postgres.log'), 'a'));
    children[1] = postgres;
    const psql = (sql: string): string =>
      db.run('psql', ['-h', '127.0.0.1', '-p', String(pgPort), '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
    await retry('PostgreSQL did not accept connections', async () => psql('SELECT 1'), 60_000);
    psql(`CREATE ROLE ${SQL_USER} LOGIN SUPERUSER PASSWORD '${SQL_PASSWORD}'`);

    for (const [database, schema] of [
      ['temporal', 'temporal'],
      ['temporal_visibility', 'visibility'],
    ] as const) {
      const base = [
        '--plugin',
        'postgres12',
        '--ep',
        '127.0.0.1',
        '-p',
        String(pgPort),
        '-u',
        SQL_USER,
        '--pw',
        SQL_PASSWORD,
        '--db',
        database,
      ];
      const versioned = join(tools.schemaDir, 'postgresql', 'v12', schema, 'versioned');
      for (const command of [['create-database'], ['setup-schema', '-v', '0.0'], ['update-schema', '-d', versioned]]) {
        execFileSync(tools.sqlTool, [...base, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
      }
      log(`database ${database}: schema set up and updated from ${versioned}`);
    }

    const taken = new Set<number>();
    const ports: number[] = [];
    for (let i = 0; i < 9; i += 1) ports.push(await freeServerPort(taken));
    const address = `127.0.0.1:${ports[0]}`;
    const configFile = join(dir, 'temporal.yaml');
    const dynamicConfigFile = join(dir, 'dynamicconfig.yaml');
    writeFileSync(dynamicConfigFile, DYNAMIC_CONFIG);
    writeFileSync(configFile, serverConfig(pgPort, ports, dynamicConfigFile));
    const serverLog = openSync(join(dir, 'temporal.log'), 'a');
    const [file, ...args] = tiedToThisProcess([tools.server, '--config-file', configFile, '--allow-no-auth', 'start']);
    const server = spawn(file, args, { stdio: ['ignore', serverLog, serverLog] });
    children[0] = server;
    log(`temporal-server ${TEMPORAL_SERVER_VERSION} starting, frontend on ${address} (log: ${dir}/temporal.log)`);

    const connection = await retry(
      'the Temporal frontend did not answer',
      () => {
        if (server.exitCode !== null) throw new Error(`temporal-server exited with ${server.exitCode}`);
        return Connection.connect({ address, connectTimeout: 2000 });
      },
      120_000,
    );
    try {
      await retry(
        `namespace ${namespace} could not be registered`,
        async () => {
          if (server.exitCode !== null) throw new Error(`temporal-server exited with ${server.exitCode}`);
          try {
            await connection.workflowService.registerNamespace({
              namespace,
              workflowExecutionRetentionPeriod: msToTs(RETENTION),
            });
          } catch (err) {
            // ALREADY_EXISTS: an earlier attempt got through.
            if ((err as { code?: number }).code !== 6) throw err;
          }
        },
        120_000,
      );
      const added = await retry(
        'the search attributes could not be added',
        () => addSearchAttributes(connection, namespace),
        60_000,
      );
      log(`namespace ${namespace} registered, search attributes ${added.join(', ') || '(already there)'} added`);
      // The frontends learn of a new namespace on their next refresh: wait until a visibility query answers.
      await retry(
        `namespace ${namespace} did not become usable`,
        () => connection.workflowService.countWorkflowExecutions({ namespace, query: 'JobType = "probe"' }),
        60_000,
      );
    } finally {
      await connection.close();
    }
    return { address, namespace, postgresUrl: `postgres://${SQL_USER}@127.0.0.1:${pgPort}`, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// `tsx scripts/temporal-cluster.ts` runs the cluster until Ctrl-C, for trying gpuflow against it by hand.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const cluster = await startTemporalCluster();
  process.stdout.write(
    `Temporal cluster up: TEMPORAL_ADDRESS=${cluster.address} TEMPORAL_NAMESPACE=${cluster.namespace}\n` +
      `state and logs in ${cluster.dir} (removed on exit). Ctrl-C stops it.\n`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cluster.stop().then(() => process.exit(0)));
  }
}
