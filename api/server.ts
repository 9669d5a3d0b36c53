import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { encryptionKeysOf, logFormatOf, type Env } from '../config/env.js';
import { prettyLogStream } from './pretty-log.js';
import { connectionOptions } from '../config/temporal.js';
import { encryptionDataConverter } from '../storage/encryption-codec.js';
import { createBlobStore } from '../storage/create-blob-store.js';
import { runpackSettingsOf } from '../config/runpack.js';
import { tuneApiHeap } from '../config/node-flags.js';
import { buildApp } from './app.js';
import type { GatewayOptions } from './gateway/gateway.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Process entry of the API: connects to Temporal, listens, and closes cleanly on SIGINT / SIGTERM.
 * `onGatewayTiming` is told the RunPod gateway's own time per attempt (the bench reports it).
 */
export async function runApiServer(
  env: Env,
  options: { onGatewayTiming?: GatewayOptions['onTiming'] } = {},
): Promise<void> {
  const host = env.GPUFLOW_API_HOST;
  if (env.GPUFLOW_API_KEYS.length === 0 && !LOOPBACK.test(host)) {
    throw new Error(
      `refusing to listen on ${host} without API keys: set GPUFLOW_API_KEYS (key[:admin|submit], comma-separated) ` +
        'or listen on 127.0.0.1',
    );
  }
  tuneApiHeap();
  const connection = await Connection.connect(connectionOptions(env.temporal));
  const workerConnection = lazyWorkerConnection(env);
  const dataConverter = encryptionDataConverter(encryptionKeysOf(env));
  const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE, dataConverter });
  const app = await buildApp({
    client,
    namespace: env.TEMPORAL_NAMESPACE,
    apiKeys: env.GPUFLOW_API_KEYS,
    rateLimits: env.GPUFLOW_RATE_LIMITS,
    maxJobsInFlight: env.GPUFLOW_MAX_JOBS_IN_FLIGHT,
    logger: {
      level: env.GPUFLOW_LOG_LEVEL,
      ...(logFormatOf(env) === 'pretty' ? { stream: prettyLogStream() } : {}),
    },
    // The API does not sign: the secret only says that the orchestrators can.
    ...(env.GPUFLOW_WEBHOOK_SECRET ? { webhooks: { allowPrivate: env.GPUFLOW_WEBHOOK_ALLOW_PRIVATE } } : {}),
    blobs: await createBlobStore(env),
    payloadThresholdBytes: env.GPUFLOW_PAYLOAD_THRESHOLD_BYTES,
    temporalUiUrl: env.GPUFLOW_TEMPORAL_UI_URL,
    bodyLimitBytes: env.GPUFLOW_MAX_BODY_BYTES,
    requestTimeoutMs: env.GPUFLOW_API_REQUEST_TIMEOUT_MS,
    connectionTimeoutMs: env.GPUFLOW_API_CONNECTION_TIMEOUT_MS,
    keepAliveTimeoutMs: env.GPUFLOW_API_KEEP_ALIVE_TIMEOUT_MS,
    codecCorsOrigins: env.GPUFLOW_CODEC_CORS_ORIGINS,
    workerHeartbeatIntervalMs: env.GPUFLOW_WORKER_HEARTBEAT_INTERVAL_MS,
    runpack: { ...runpackSettingsOf(env), maxJobLogBytes: env.GPUFLOW_MAX_JOB_LOG_BYTES },
    gateway: {
      connection: workerConnection.get,
      dataConverter,
      ...(options.onGatewayTiming ? { onTiming: options.onGatewayTiming } : {}),
    },
  });
  if (env.GPUFLOW_API_KEYS.length === 0) {
    app.log.warn(
      '!!! NO API KEYS CONFIGURED: every request is admin. Serving loopback only. Set GPUFLOW_API_KEYS before exposing the API. !!!',
    );
  }
  let closing = false;
  const close = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    app
      .close()
      .then(() => connection.close())
      .then(() => workerConnection.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          app.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
  await app.listen({ host, port: env.GPUFLOW_API_PORT });
}

/**
 * The connection of the RunPod gateway's Temporal workers, made when the first runner polls: an API that no runner
 * uses never loads the worker SDK (about 20 MB resident) nor starts its native runtime.
 */
function lazyWorkerConnection(env: Env): { get: () => Promise<NativeConnection>; close: () => Promise<void> } {
  let connecting: Promise<NativeConnection> | undefined;
  let installed = false;
  const connect = async (): Promise<NativeConnection> => {
    const { NativeConnection, Runtime } = await import('@temporalio/worker');
    // This process handles SIGINT / SIGTERM itself (runApiServer).
    if (!installed) {
      Runtime.install({ shutdownSignals: [], workerHeartbeatInterval: env.GPUFLOW_WORKER_HEARTBEAT_INTERVAL_MS });
    }
    installed = true;
    return NativeConnection.connect(connectionOptions(env.temporal));
  };
  return {
    get: () => {
      connecting ??= connect().catch((err: unknown) => {
        connecting = undefined;
        throw err;
      });
      return connecting;
    },
    close: async () => {
      const connection = await connecting?.catch(() => undefined);
      await connection?.close();
    },
  };
}
