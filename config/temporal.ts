import { accessSync, constants } from 'node:fs';
import {
  loadClientConfigProfile,
  toClientOptions,
  type ClientConfigProfile,
  type ClientConnectConfig,
} from '@temporalio/envconfig';

type ConnectionOptions = ClientConnectConfig['connectionOptions'];

/** Today's defaults when neither a variable nor a profile says otherwise: the local dev server. */
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

/**
 * Where and how to reach Temporal, resolved as every Temporal tool does (`@temporalio/envconfig`): a `temporal.toml`
 * profile (`TEMPORAL_CONFIG_FILE`, else `$XDG_CONFIG_HOME/temporalio/temporal.toml`; `TEMPORAL_PROFILE`, else
 * `default`), then the `TEMPORAL_*` variables on top. Fits both `Connection.connect` and `NativeConnection.connect`.
 */
export interface TemporalConnection {
  address: string;
  namespace: string;
  /** Sent as `authorization: Bearer <key>` on every call; turns TLS on unless TLS is explicitly disabled. */
  apiKey?: string;
  tls?: NonNullable<ConnectionOptions['tls']>;
  /** Extra gRPC headers (`TEMPORAL_GRPC_META_*`, a profile's `grpc_meta`). */
  metadata?: NonNullable<ConnectionOptions['metadata']>;
}

/** The variables envconfig reads: Temporal's own, and where the default config file lives. */
export function isTemporalConfigVariable(name: string): boolean {
  return name.startsWith('TEMPORAL_') || ['HOME', 'XDG_CONFIG_HOME', 'APPDATA'].includes(name);
}

const TLS_FILES = [
  ['clientCert', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'client_cert_path'],
  ['clientKey', 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'client_key_path'],
  ['serverCACert', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'server_ca_cert_path'],
] as const;

/**
 * @param vars the environment (only what {@link isTemporalConfigVariable} accepts is read), empty values removed.
 * @returns the connection, or one problem per bad setting, each naming the variable (or profile key) and the path.
 */
export function resolveTemporalConnection(
  vars: Readonly<Record<string, string>>,
): { ok: true; connection: TemporalConnection } | { ok: false; problems: string[] } {
  const env = Object.fromEntries(Object.entries(vars).filter(([name]) => isTemporalConfigVariable(name)));
  const configFile = env.TEMPORAL_CONFIG_FILE;
  // envconfig treats a missing file as "no profiles", which would hide a typo in an explicit path.
  if (configFile !== undefined && !readable(configFile)) {
    return { ok: false, problems: [`TEMPORAL_CONFIG_FILE: cannot read ${configFile}`] };
  }
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: env });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const where = /^Profile '/.test(message) ? 'TEMPORAL_PROFILE' : (configFile ?? 'temporal.toml');
    return { ok: false, problems: [`${where}: ${message}`] };
  }
  const problems: string[] = [];
  for (const [field, variable, tomlKey] of TLS_FILES) {
    const source = profile.tls?.[field];
    if (!source || !('path' in source) || readable(source.path)) continue;
    const from =
      env[variable] !== undefined ? variable : `${tomlKey} of the profile in ${configFile ?? 'temporal.toml'}`;
    problems.push(`${from}: cannot read ${source.path}`);
  }
  if (problems.length > 0) return { ok: false, problems };
  const { connectionOptions, namespace } = toClientOptions(profile);
  const { apiKey, tls, metadata } = connectionOptions;
  return {
    ok: true,
    connection: {
      address: connectionOptions.address ?? DEFAULT_TEMPORAL_ADDRESS,
      namespace: namespace ?? DEFAULT_TEMPORAL_NAMESPACE,
      ...(typeof apiKey === 'string' ? { apiKey } : {}),
      ...(tls !== undefined && tls !== null ? { tls } : {}),
      ...(metadata && Object.keys(metadata).length > 0 ? { metadata } : {}),
    },
  };
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** The options of `Connection.connect` and `NativeConnection.connect` (everything but the namespace). */
export function connectionOptions(temporal: TemporalConnection): Omit<TemporalConnection, 'namespace'> {
  const { address, apiKey, tls, metadata } = temporal;
  return { address, apiKey, tls, metadata };
}
