import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyServerOptions, type RouteOptions } from 'fastify';
import swagger from '@fastify/swagger';
import { fastifySSE } from '@fastify/sse';
import swaggerUi from '@fastify/swagger-ui';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { ApiKey } from '../config/env.js';
import { authPlugin } from './plugins/auth.js';
import type { MaxJobsInFlight, RateLimits } from '../config/limits.js';
import { rateLimitPlugin } from './plugins/rate-limit.js';
import { tenantScopePlugin } from './plugins/tenant-scope.js';
import { InFlightCaps } from './services/in-flight-caps.js';
import { parseJsonBodies } from './json-body.js';
import { codecRoutes } from './routes/codec.js';
import { errorHandlerPlugin } from './plugins/error-handler.js';
import { CONTROL_TASK_QUEUE } from '../protocol/task-queues.js';
import type { BlobStore } from '../storage/blob-store.js';
import { adminRoutes } from './routes/admin.js';
import { logRoutes } from './routes/logs.js';
import { artifactRoutes } from './routes/artifacts.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { runpodClientRoutes } from './routes/runpod/client.js';
import { streamRoutes } from './routes/stream.js';
import { AdminService } from './services/admin-service.js';
import { ArtifactService } from './services/artifact-service.js';
import { JobService } from './services/job-service.js';
import { JobStreams } from './services/job-stream.js';
import { GatewayCore, RunPodGateway, type GatewayOptions } from './gateway/gateway.js';
import { runpodWorkerRoutes } from './routes/runpod-worker/index.js';
import type { RunpackSettings } from '../config/runpack.js';
import { RunpackGateway } from './gateway/runpack.js';
import { registerRunpackRoutes } from './routes/runpack/index.js';
import { RunPodService } from './services/runpod-service.js';
import { RunPodStreams } from './services/runpod-stream.js';
import { WorkerValues } from '../jobs/worker-values.js';
import { JobTypeCatalog } from './services/job-type-catalog.js';
import { InputSchemas } from './services/input-schemas.js';
import type { WebhookSettings } from './services/webhook-guard.js';
import { ApiMetrics } from './services/api-metrics.js';
import { QueueSnapshots } from './services/queue-snapshots.js';
import { metricsPlugin } from './plugins/metrics.js';
import { workerRoutes } from './routes/workers.js';
import { WorkerList } from './services/worker-list.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The RunPod worker gateway, when {@link AppDeps.gateway} is set (its `runners` feed `/health` and queues). */
    gateway?: RunPodGateway;
    /** The job queue figures behind `/metrics`, refreshed in the background. */
    queueFigures: QueueSnapshots;
  }
}

export interface AppDeps {
  client: Client;
  namespace: string;
  apiKeys?: readonly ApiKey[];
  /** Task queue of the `runJob` workflows. @defaultValue 'gpuflow-control' */
  controlTaskQueue?: string;
  /** Longest a request waits on Temporal before it answers 503, ms. @defaultValue 5000 */
  temporalTimeoutMs?: number;
  /** Largest request body; a larger one is a 413. @defaultValue 20971520 (20 MiB) */
  bodyLimitBytes?: number;
  /** Large inputs and outputs and the artifacts: the job workers' store. Unset: everything inline, no downloads. */
  blobs?: BlobStore;
  /** Inputs whose JSON is larger go to `blobs`, by reference. @defaultValue 262144 (256 KiB) */
  payloadThresholdBytes?: number;
  logger?: FastifyServerOptions['logger'];
  /**
   * Longest a client may take to send a whole request, headers and body, ms; a slower one is answered 408 and
   * closed (a body trickled a byte at a time would otherwise hold a socket for ever). @defaultValue 60000
   */
  requestTimeoutMs?: number;
  /**
   * A socket with no traffic either way for this long is closed, ms. It must exceed the longest `?wait` (300000):
   * a waiting response sends nothing until the job ends. @defaultValue 330000
   */
  connectionTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open between requests, ms. @defaultValue 72000 */
  keepAliveTimeoutMs?: number;
  /** Webhooks on submit; set only when the orchestrator has a signing secret (GPUFLOW_WEBHOOK_SECRET). */
  webhooks?: WebhookSettings;
  /**
   * The RunPod worker gateway (`/runpod-worker/...`): set to let unmodified runpod workers take jobs over HTTP.
   * `connection` is this process's connection for the gateway's per-type Temporal workers.
   */
  gateway?: Omit<GatewayOptions, 'client' | 'namespace' | 'blobs' | 'payloadThresholdBytes' | 'log'>;
  /** The Runpack face (`/api/...`): its limits and heartbeat threshold; its runner routes need `gateway` too. */
  runpack?: RunpackSettings & { maxJobLogBytes?: number };
  /** Origins of the Temporal Web UI allowed to call the codec endpoint from a browser (GPUFLOW_CODEC_CORS_ORIGINS). @defaultValue none */
  codecCorsOrigins?: readonly string[];
  /** Requests per key and window, by role and tenant (GPUFLOW_RATE_LIMITS). @defaultValue none: unlimited */
  rateLimits?: RateLimits;
  /** Jobs queued or running at once per tenant (GPUFLOW_MAX_JOBS_IN_FLIGHT). @defaultValue none: no cap */
  maxJobsInFlight?: MaxJobsInFlight;
  /** How long a tenant's count of jobs in flight is reused before visibility is asked again, ms. @defaultValue 2000 */
  inFlightCacheMs?: number;
  /** Time between two background reads of every job type's queue figures for `/metrics`, ms. @defaultValue 10000 */
  queueFiguresIntervalMs?: number;
  /** The Temporal Web UI's address (GPUFLOW_TEMPORAL_UI_URL): job views link to their page there. @defaultValue none */
  temporalUiUrl?: string | undefined;
  /** Time between two background reads of the input schemas job workers published, ms. @defaultValue 5000 */
  inputSchemasRefreshMs?: number;
  /** The workers' heartbeat period (GPUFLOW_WORKER_HEARTBEAT_INTERVAL_MS): `GET /v1/workers` says lost after 3. @defaultValue 10000 */
  workerHeartbeatIntervalMs?: number;
  /** Called for every route as it is registered, before any other hook sees it (route listings, the auth test). */
  onRoute?: (route: RouteOptions) => void;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECTION_TIMEOUT_MS = 330_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** The HTTP API as a factory: it never listens (server.ts does), so tests drive it with `app.inject()`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const requestTimeout = deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    logger: deps.logger ?? false,
    // RunPod job ids handed to HTTP runners carry the attempt's task token (api/gateway/held-jobs.ts).
    routerOptions: { maxParamLength: 2048 },
    bodyLimit: deps.bodyLimitBytes ?? 20 * 1024 * 1024,
    requestTimeout,
    connectionTimeout: deps.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: deps.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    http: {
      // Node enforces both timeouts on a timer of this period (30 s by default): check often enough that a slow
      // request is closed within about 1.25 times its bound.
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, requestTimeout / 4)),
      headersTimeout: Math.min(requestTimeout, 60_000),
    },
  }).withTypeProvider<ZodTypeProvider>();
  if (deps.onRoute) app.addHook('onRoute', deps.onRoute);
  // First, so that its hooks see every route, whatever registers it and wherever it is mounted.
  await app.register(authPlugin, { apiKeys: deps.apiKeys ?? [] });
  await app.register(tenantScopePlugin, { client: deps.client, temporalTimeoutMs: deps.temporalTimeoutMs ?? 5000 });
  await app.register(rateLimitPlugin, { limits: deps.rateLimits ?? { byRole: {}, byTenant: {} } });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Job routes speak JSON only: a text/plain body gets a 415, not a confusing "expected object".
  app.removeContentTypeParser('text/plain');
  parseJsonBodies(app);

  await app.register(errorHandlerPlugin);
  await app.register(swagger, {
    openapi: {
      info: { title: 'gpuflow', description: 'Self-hostable serverless GPU job queue on Temporal', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: deps.apiKeys?.length ? [{ bearer: [] }] : [],
    },
    transform: jsonSchemaTransform,
    // Emits the schemas registered with an id (`.meta({ id })`) as components, where the routes' `$ref`s point.
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const controlTaskQueue = deps.controlTaskQueue ?? CONTROL_TASK_QUEUE;
  const { client, temporalTimeoutMs } = deps;
  const jobTypes = new JobTypeCatalog({ client, controlTaskQueue, temporalTimeoutMs, log: app.log });
  const inputs = new InputSchemas({
    readMemo: () => client.withDeadline(Date.now() + (temporalTimeoutMs ?? 5000), () => jobTypes.memo()),
    refreshMs: deps.inputSchemasRefreshMs,
    log: app.log,
  });
  // In the background: an API that starts while Temporal is down still starts (and checks nothing until it reads).
  app.addHook('onReady', async () => {
    void inputs.start();
  });
  app.addHook('onClose', () => inputs.stop());
  const { blobs, payloadThresholdBytes } = deps;
  // Long waits end at once when the API closes (they answer the current view), so a shutdown takes moments.
  const shutdown = new AbortController();
  app.addHook('preClose', (done) => {
    shutdown.abort();
    done();
  });
  // Closing, the server ends only the connections idle at that moment: one busy with a wait would stay open once
  // answered (keep-alive) and hold the shutdown until the client drops it.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (shutdown.signal.aborted) void reply.header('connection', 'close');
    return payload;
  });
  // One for the whole app: a malformed value a worker produced is reported once per job and field.
  const values = new WorkerValues((message, facts) => app.log.warn(facts, message));
  const caps = new InFlightCaps({
    client,
    controlTaskQueue,
    caps: deps.maxJobsInFlight ?? {},
    cacheMs: deps.inFlightCacheMs,
  });
  const queueFigures = new QueueSnapshots({
    client,
    catalog: jobTypes,
    extraTypes: () => app.gateway?.runners.types() ?? [],
    intervalMs: deps.queueFiguresIntervalMs,
    temporalTimeoutMs,
    log: app.log,
  });
  app.decorate('queueFigures', queueFigures);
  app.addHook('onReady', async () => queueFigures.start());
  app.addHook('onClose', () => queueFigures.stop());
  const metrics = new ApiMetrics({
    queues: () => queueFigures.current(),
    runners: (type) => app.gateway?.runners.runnersOf(type) ?? { idle: 0, running: 0 },
  });
  await app.register(metricsPlugin, { metrics });
  const jobs = new JobService({
    admit: (tenant) => caps.admit(tenant),
    shutdown: shutdown.signal,
    client,
    values,
    controlTaskQueue,
    temporalTimeoutMs,
    jobTypes,
    inputs,
    metrics,
    webhooks: deps.webhooks,
    blobs,
    payloadThresholdBytes,
    ui: deps.temporalUiUrl ? { url: deps.temporalUiUrl, namespace: deps.namespace } : undefined,
  });
  const gatewayCore = deps.gateway
    ? new GatewayCore({
        ...deps.gateway,
        client,
        namespace: deps.namespace,
        blobs,
        payloadThresholdBytes,
        log: app.log,
      })
    : undefined;
  const gateway = gatewayCore ? new RunPodGateway(gatewayCore) : undefined;
  const admin = new AdminService({
    client,
    controlTaskQueue,
    temporalTimeoutMs,
    catalog: jobTypes,
    values,
    runners: gateway?.runners,
  });
  await app.register(healthRoutes, { client: deps.client, namespace: deps.namespace });
  await app.register(jobRoutes, { jobs });
  await app.register(fastifySSE, { heartbeatInterval: 15_000 });
  const streams = new JobStreams(deps.client, jobs.reader);
  await app.register(streamRoutes, { streams, shutdown: shutdown.signal });
  await app.register(adminRoutes, { admin });
  const workers = new WorkerList({
    client,
    temporalTimeoutMs,
    heartbeatIntervalMs: deps.workerHeartbeatIntervalMs,
    runners: (withinMs) => app.gateway?.runners.snapshot(withinMs) ?? [],
  });
  await app.register(workerRoutes, { workers });
  if (gateway) {
    app.decorate('gateway', gateway);
    app.addHook('onClose', () => gateway.close());
    await app.register(runpodWorkerRoutes, { gateway });
  }
  const runpod = new RunPodService({
    client,
    controlTaskQueue,
    jobs,
    admin,
    streams: new RunPodStreams(streams),
    ...(app.gateway ? { runners: app.gateway.runners } : {}),
  });
  await app.register(runpodClientRoutes, { runpod });
  if (deps.runpack) {
    const runpack = gatewayCore ? new RunpackGateway(gatewayCore, deps.runpack) : undefined;
    if (runpack) app.addHook('onClose', () => runpack.close());
    await registerRunpackRoutes(app, { jobs, admin, blobs, settings: deps.runpack, runpack });
  }
  await app.register(codecRoutes, {
    codecs: deps.client.options.loadedDataConverter.payloadCodecs,
    corsOrigins: deps.codecCorsOrigins ?? [],
  });
  await app.register(artifactRoutes, { artifacts: new ArtifactService({ reader: jobs.reader, blobs }) });
  await app.register(logRoutes, { reader: jobs.reader, blobs });
  return app;
}
