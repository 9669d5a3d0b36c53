import { createServer } from 'node:net';

/**
 * The files of the cluster test's Temporal server (see temporal-cluster.ts): its static config and dynamic config,
 * and the ports it may use. docker-compose.yml sets the same through the server image's environment.
 */

/** The SQL user and password, as in docker-compose.yml (trust auth here: the password is not checked). */
export const SQL_USER = 'temporal';
export const SQL_PASSWORD = 'temporal';
/** Few shards: one machine, a few hundred jobs. The count is fixed for the life of a cluster's database. */
export const CLUSTER_HISTORY_SHARDS = 4;

/** The server's static config: postgres12 for both stores, every service on a free port of 127.0.0.1. */
export function serverConfig(pgPort: number, ports: number[], dynamicConfigFile: string): string {
  const [frontend, frontendHttp, ...rest] = ports;
  const service = (name: string, grpc: number, membership: number, extra = ''): string =>
    `  ${name}:\n    rpc:\n      grpcPort: ${grpc}\n      membershipPort: ${membership}\n      bindOnLocalHost: true\n${extra}`;
  const store = (database: string, maxConns: number): string =>
    `      sql:\n        pluginName: postgres12\n        databaseName: ${database}\n` +
    `        connectAddr: "127.0.0.1:${pgPort}"\n        connectProtocol: tcp\n` +
    `        user: ${SQL_USER}\n        password: ${SQL_PASSWORD}\n` +
    `        maxConns: ${maxConns}\n        maxIdleConns: ${maxConns}\n        maxConnLifetime: 1h\n`;
  const [frontendMembership, history, historyMembership, matching, matchingMembership, worker, workerMembership] =
    rest as [number, number, number, number, number, number, number];
  return [
    'log:\n  stdout: true\n  level: warn\n',
    `persistence:\n  defaultStore: postgres-default\n  visibilityStore: postgres-visibility\n` +
      `  numHistoryShards: ${CLUSTER_HISTORY_SHARDS}\n  datastores:\n` +
      `    postgres-default:\n${store('temporal', 20)}    postgres-visibility:\n${store('temporal_visibility', 10)}`,
    'global:\n  membership:\n    maxJoinDuration: 30s\n    broadcastAddress: "127.0.0.1"\n',
    'services:\n' +
      service('frontend', frontend!, frontendMembership, `      httpPort: ${frontendHttp}\n`) +
      service('history', history, historyMembership) +
      service('matching', matching, matchingMembership) +
      service('worker', worker, workerMembership),
    'clusterMetadata:\n  enableGlobalNamespace: false\n  failoverVersionIncrement: 10\n' +
      '  masterClusterName: active\n  currentClusterName: active\n  clusterInformation:\n    active:\n' +
      `      enabled: true\n      initialFailoverVersion: 1\n      rpcName: frontend\n      rpcAddress: "127.0.0.1:${frontend}"\n`,
    'dcRedirectionPolicy:\n  policy: noop\n',
    `dynamicConfigClient:\n  filepath: ${JSON.stringify(dynamicConfigFile)}\n  pollInterval: 10s\n`,
  ].join('\n');
}

/**
 * Dynamic config: the dev server's offline setting (no version check against temporal.io) and search attributes
 * read fresh, so that the ones added at start are usable at once.
 */
export const DYNAMIC_CONFIG = [
  'frontend.enableServerVersionCheck:\n  - value: false\n',
  'system.forceSearchAttributesCacheRefreshOnRead:\n  - value: true\n',
  'limit.maxIDLength:\n  - value: 255\n',
].join('');

/**
 * A free port of 127.0.0.1 below 32768. Temporal's SQL stores keep the membership ports in a `smallint` column:
 * a port from Linux's ephemeral range (32768 and up, what port 0 gives) makes the services fail at start with
 * `value "34709" is out of range for type smallint`.
 */
export async function freeServerPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((done) => {
      const probe = createServer();
      probe.once('error', () => done(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
}
