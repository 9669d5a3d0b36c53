import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { devChildrenEnv } from '../../cli/dev.js';
import { EnvError, loadEnv } from '../../config/env.js';
import { connectionOptions } from '../../config/temporal.js';

const dir = mkdtempSync(join(tmpdir(), 'gpuflow-temporal-config-'));
const configFile = join(dir, 'temporal.toml');
writeFileSync(
  configFile,
  [
    '[profile.default]',
    'address = "default.example:7233"',
    '',
    '[profile.cloud]',
    'address = "my-ns.a1b2c.tmprl.cloud:7233"',
    'namespace = "my-ns.a1b2c"',
    'api_key = "profile-api-key"',
    '',
    '[profile.mtls]',
    'address = "cluster.internal:7233"',
    '[profile.mtls.tls]',
    `client_cert_path = "${join(dir, 'missing.pem')}"`,
    `client_key_path = "${join(dir, 'missing.key')}"`,
    '',
  ].join('\n'),
);

function problemsOf(source: Record<string, string>): string {
  try {
    loadEnv(source);
  } catch (err) {
    if (err instanceof EnvError) return err.message;
    throw err;
  }
  throw new Error('expected an EnvError');
}

describe('Temporal connection settings (envconfig)', () => {
  it("keeps today's defaults: the local dev server, namespace default, no TLS, no key", () => {
    expect(loadEnv({}).temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default' });
    expect(loadEnv({ TEMPORAL_ADDRESS: 'temporal:7233' })).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal:7233',
      temporal: { address: 'temporal:7233', namespace: 'default' },
    });
  });

  it('takes address, namespace and API key from the profile TEMPORAL_PROFILE names; variables win over it', () => {
    const cloud = loadEnv({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'cloud' });
    expect(cloud.temporal).toEqual({
      address: 'my-ns.a1b2c.tmprl.cloud:7233',
      namespace: 'my-ns.a1b2c',
      apiKey: 'profile-api-key',
      tls: true, // an API key turns TLS on, as in every Temporal SDK
    });
    expect(cloud).toMatchObject({
      TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'my-ns.a1b2c',
    });
    const overridden = loadEnv({
      TEMPORAL_CONFIG_FILE: configFile,
      TEMPORAL_PROFILE: 'cloud',
      TEMPORAL_NAMESPACE: 'other',
      TEMPORAL_API_KEY: 'env-key',
      TEMPORAL_TLS: 'false',
    });
    expect(overridden.temporal).toEqual({
      address: 'my-ns.a1b2c.tmprl.cloud:7233',
      namespace: 'other',
      apiKey: 'env-key',
      tls: false,
    });
    expect(loadEnv({ TEMPORAL_CONFIG_FILE: configFile }).temporal.address).toBe('default.example:7233');
  });

  it('finds temporal.toml where the Temporal CLI keeps it ($XDG_CONFIG_HOME/temporalio)', () => {
    const home = mkdtempSync(join(tmpdir(), 'gpuflow-xdg-'));
    mkdirSync(join(home, 'temporalio'));
    writeFileSync(join(home, 'temporalio', 'temporal.toml'), '[profile.default]\nnamespace = "from-xdg"\n');
    expect(loadEnv({ XDG_CONFIG_HOME: home }).temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'from-xdg' });
  });

  it('names the variable and the path of a TLS file that cannot be read, with every other bad variable', () => {
    const message = problemsOf({
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/client.pem',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '/nonexistent/client.key',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem',
      GPUFLOW_API_PORT: 'http',
    });
    expect(message).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read /nonexistent/client.pem');
    expect(message).toContain('TEMPORAL_TLS_CLIENT_KEY_PATH: cannot read /nonexistent/client.key');
    expect(message).toContain('TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read /nonexistent/ca.pem');
    expect(message).toContain('GPUFLOW_API_PORT');
    expect(problemsOf({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'mtls' })).toContain(
      `client_cert_path of the profile in ${configFile}: cannot read ${join(dir, 'missing.pem')}`,
    );
  });

  it('says which setting is wrong for a missing config file or an unknown profile', () => {
    expect(problemsOf({ TEMPORAL_CONFIG_FILE: join(dir, 'nope.toml') })).toContain(
      `TEMPORAL_CONFIG_FILE: cannot read ${join(dir, 'nope.toml')}`,
    );
    expect(problemsOf({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'prod' })).toContain(
      "TEMPORAL_PROFILE: Profile 'prod' not found",
    );
  });
});

describe('gpuflow dev', () => {
  it("gives its children its own dev server, whatever Temporal settings the user's shell holds", () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gpuflow-dev-env-'));
    vi.stubEnv('TEMPORAL_CONFIG_FILE', configFile);
    vi.stubEnv('TEMPORAL_PROFILE', 'cloud');
    vi.stubEnv('TEMPORAL_API_KEY', 'users-cloud-key');
    vi.stubEnv('TEMPORAL_TLS_CLIENT_CERT_PATH', '/home/me/cloud.pem');
    vi.stubEnv('TEMPORAL_CLI_PATH', '/opt/temporal');
    try {
      const children = devChildrenEnv(loadEnv({}), '127.0.0.1:17233', dataDir);
      expect(children).toMatchObject({ TEMPORAL_CLI_PATH: '/opt/temporal', GPUFLOW_DEV_CHILD: 'true' });
      expect(Object.keys(children).filter((name) => /^TEMPORAL_(API_KEY|PROFILE|TLS)/.test(name))).toEqual([]);
      const seen = loadEnv(
        Object.fromEntries(Object.entries(children).filter(([name]) => name.startsWith('TEMPORAL_'))),
      );
      expect(seen.temporal).toEqual({ address: '127.0.0.1:17233', namespace: 'default' });
      // Its profile file alone says the same: a process that gets only TEMPORAL_CONFIG_FILE connects there too.
      expect(loadEnv({ TEMPORAL_CONFIG_FILE: children.TEMPORAL_CONFIG_FILE! }).temporal).toEqual(seen.temporal);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

/** A plaintext gRPC server on 127.0.0.1 that answers GetSystemInfo (the first call of a connection) and records it. */
describe('the API key on the wire', () => {
  let server: grpc.Server;
  let address: string;
  const seen: grpc.Metadata[] = [];

  beforeAll(async () => {
    server = new grpc.Server();
    const path = '/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo';
    const identity = (value: Buffer): Buffer => value;
    server.addService(
      {
        GetSystemInfo: {
          path,
          requestStream: false,
          responseStream: false,
          requestSerialize: identity,
          requestDeserialize: identity,
          responseSerialize: identity,
          responseDeserialize: identity,
        },
      },
      {
        // An empty message is a valid GetSystemInfoResponse.
        GetSystemInfo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          seen.push(call.metadata);
          callback(null, Buffer.alloc(0));
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    address = `127.0.0.1:${port}`;
  });
  afterAll(() => server?.forceShutdown());

  const envWithKey = (): ReturnType<typeof loadEnv> =>
    // TLS off explicitly: an API key alone would turn it on, and this test server is plaintext.
    loadEnv({ TEMPORAL_ADDRESS: address, TEMPORAL_API_KEY: 'secret-api-key', TEMPORAL_TLS: 'false' });

  it('is sent as "authorization: Bearer <key>" by the client connection (the API)', async () => {
    seen.length = 0;
    const connection = await Connection.connect({ ...connectionOptions(envWithKey().temporal), connectTimeout: 5000 });
    await connection.close();
    expect(seen[0]?.get('authorization')).toEqual(['Bearer secret-api-key']);
  });

  it('is sent the same way by the native connection (the orchestrator and the job workers)', async () => {
    seen.length = 0;
    const connection = await NativeConnection.connect(connectionOptions(envWithKey().temporal));
    await connection.close();
    expect(seen[0]?.get('authorization')).toEqual(['Bearer secret-api-key']);
  }, 20_000);
});
