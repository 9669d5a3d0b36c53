import { z } from 'zod';
import { allowEntryProblem } from '../contracts/webhook-url.js';
import { DEFAULT_PAYLOAD_THRESHOLD_BYTES, MAX_PAYLOAD_THRESHOLD_BYTES } from '../protocol/blobs.js';
import { MAX_JOB_LOG_BYTES, MIN_JOB_LOG_BYTES } from '../protocol/logs.js';
import { DEFAULT_TENANT, TenantNameSchema } from '../contracts/tenant.js';
import { encryptionConfigProblems, encryptionKey, encryptionKeys, type EncryptionKeyEntry } from './encryption-keys.js';
import { maxJobsInFlight, rateLimits } from './limits.js';
import { runpackApiKeys, runpackEnv } from './runpack.js';
import { resolveTemporalConnection, type TemporalConnection } from './temporal.js';

export { DEFAULT_ENCRYPTION_KEY_ID, type EncryptionKeyEntry } from './encryption-keys.js';

export const API_ROLES = ['submit', 'admin', 'worker', 'metrics'] as const;
export type ApiRole = (typeof API_ROLES)[number];
export interface ApiKey {
  key: string;
  role: ApiRole;
  /** `worker` keys only: the job types this key may take and finish; absent: any type. */
  types?: readonly string[];
  /** The tenant whose jobs this key submits and sees (an admin key sees every tenant's). @defaultValue 'default' */
  tenant?: string;
}

const JOB_TYPE = /^[a-z][a-z0-9-]{0,62}$/;

/** The largest bound an operator may set on an attempt's log: the API reads every attempt's blob whole. */
const MAX_JOB_LOG_CAP_BYTES = 64 * 1024 * 1024;

const port = z.coerce.number().int().min(1).max(65_535);

/**
 * `key` or `key:role`, comma-separated. A key without a role gets the narrower `submit` role. A `worker` key (an
 * HTTP runner on a GPU host: it takes and finishes jobs, nothing else) may be limited to some job types:
 * `key:worker=render|upscale`. `@tenant` at the end puts the key in a tenant (`key:submit@acme`, `key@acme`);
 * without one it is in the `default` tenant. A worker key has no tenant: runners serve every tenant. A `metrics` key (a Prometheus scraper) reaches `/metrics` only.
 */
const apiKeys = z
  .string()
  .default('')
  .transform((raw, ctx): ApiKey[] => {
    const keys: ApiKey[] = [];
    for (const entry of raw
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const at = entry.lastIndexOf('@');
      const tenant = at < 0 ? DEFAULT_TENANT : entry.slice(at + 1);
      const [key = '', roleSpec = 'submit', ...rest] = (at < 0 ? entry : entry.slice(0, at)).split(':');
      const [role = '', typeList, ...extra] = roleSpec.split('=');
      const types = typeList === undefined ? undefined : typeList.split('|');
      const badTypes = types !== undefined && (role !== 'worker' || !types.every((type) => JOB_TYPE.test(type)));
      const badTenant = !TenantNameSchema.safeParse(tenant).success;
      if (
        rest.length > 0 ||
        extra.length > 0 ||
        key.length < 16 ||
        !API_ROLES.includes(role as ApiRole) ||
        badTypes ||
        badTenant
      ) {
        ctx.addIssue({
          code: 'custom',
          message:
            'each entry must be <key>[:submit|admin|metrics|worker[=<type>|<type>...]][@<tenant>] with a key of at least 16 ' +
            'characters and a tenant of a-z 0-9 _ -',
        });
        return z.NEVER;
      }
      // A runner's tasks come from per-type queues that every tenant shares (api/gateway/TENANT-SCOPING.md): a
      // worker key in a tenant would be handed other tenants' jobs, so runners are the operator's, as workers are.
      if (role === 'worker' && at >= 0) {
        ctx.addIssue({
          code: 'custom',
          message:
            'a worker key cannot belong to a tenant: runners take jobs of every tenant from shared per-type queues ' +
            '(they are the operator’s GPU hosts, like gpuflow workers); drop the @' +
            tenant,
        });
        return z.NEVER;
      }
      keys.push({ key, role: role as ApiRole, ...(types ? { types } : {}), tenant });
    }
    return keys;
  });

/** Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes. */
const webhookSecret = z.string().refine(
  (value) => {
    const base64 = value.startsWith('whsec_') ? value.slice('whsec_'.length) : '';
    const bytes = Buffer.from(base64, 'base64').length;
    return /^[A-Za-z0-9+/]+={0,2}$/.test(base64) && base64.length % 4 === 0 && bytes >= 24 && bytes <= 64;
  },
  { message: 'must be whsec_ followed by the base64 of 24 to 64 random bytes: whsec_$(openssl rand -base64 32)' },
);

/** Host names, addresses and CIDRs, comma-separated. */
const allowList = z
  .string()
  .default('')
  .transform((raw, ctx): string[] => {
    const entries = raw
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    for (const entry of entries) {
      const problem = allowEntryProblem(entry);
      if (problem) ctx.addIssue({ code: 'custom', message: `${problem}: use host names, IP addresses or CIDRs` });
    }
    return entries;
  });

const EnvSchema = z.object({
  /** A Temporal CLI binary to use for `gpuflow dev` and the tests instead of looking one up. */
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  GPUFLOW_API_HOST: z.string().min(1).default('127.0.0.1'),
  GPUFLOW_API_PORT: port.default(3000),
  /** Where the embedded stack keeps its state (the Temporal SQLite file) and the directory blob store (`blobs/`). */
  GPUFLOW_DATA_DIR: z.string().min(1).default('.data'),
  /** Inputs and outputs whose JSON is larger are stored in the blob store and passed by reference. */
  GPUFLOW_PAYLOAD_THRESHOLD_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(MAX_PAYLOAD_THRESHOLD_BYTES)
    .default(DEFAULT_PAYLOAD_THRESHOLD_BYTES),
  /** Largest API request body (a submission); larger ones get a 413. */
  GPUFLOW_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(1024 * 1024 * 1024)
    .default(20 * 1024 * 1024),
  /** Longest a client may take to send a whole request (headers and body), ms; slower ones get a 408. */
  GPUFLOW_API_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /** A socket idle both ways this long is closed, ms; above the longest `?wait` (300000), which sends nothing. */
  GPUFLOW_API_CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(330_000),
  /** How long an idle keep-alive connection stays open between requests, ms. */
  GPUFLOW_API_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(72_000),
  /** Set: blobs go to this S3 bucket instead of `<GPUFLOW_DATA_DIR>/blobs` (needed when workers run elsewhere). */
  GPUFLOW_S3_BUCKET: z.string().min(3).max(63).optional(),
  /** An S3-compatible server (MinIO, Ceph, R2, ...); unset: AWS S3. */
  GPUFLOW_S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  GPUFLOW_S3_REGION: z.string().min(1).default('us-east-1'),
  /** Both or neither; neither: the AWS SDK's default credential chain (environment, profile, instance role). */
  GPUFLOW_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  GPUFLOW_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Path-style URLs (`host/bucket/key`); most self-hosted S3-compatible servers need it. */
  GPUFLOW_S3_FORCE_PATH_STYLE: z.stringbool().default(false),
  /** Prepended to every object key, e.g. `gpuflow/`. */
  GPUFLOW_S3_PREFIX: z.string().min(1).max(512).optional(),
  GPUFLOW_API_KEYS: apiKeys,
  /**
   * Requests per key and time window, by role and by tenant: `submit=600/1m,admin=6000/1m,tenant:acme=60/1m`. A key
   * gets its tenant's limit when the tenant has one, else its role's; unlisted: unlimited. Over it: a 429.
   */
  GPUFLOW_RATE_LIMITS: rateLimits,
  /** Jobs queued or running at once per tenant: `acme=20,*=500` (`*`: every tenant not listed). Unset: no cap. */
  GPUFLOW_MAX_JOBS_IN_FLIGHT: maxJobsInFlight,
  /** gRPC port of the embedded Temporal dev server; its Web UI listens 1000 above. */
  GPUFLOW_TEMPORAL_PORT: port.default(7233),
  /** Where `gpuflow submit|status|cancel` find the API, and the key they send. */
  GPUFLOW_API_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3000'),
  GPUFLOW_API_KEY: z.string().min(1).optional(),
  /** Set by `gpuflow dev` on its children: stop when dev's pipe on stdin closes (dev died, even by SIGKILL). */
  GPUFLOW_DEV_CHILD: z.stringbool().default(false),
  /** Signs webhooks (Standard Webhooks). Needed by the orchestrator to send them and by the API to accept them. */
  GPUFLOW_WEBHOOK_SECRET: webhookSecret.optional(),
  /** Private hosts and networks webhooks may reach (loopback, LAN, ...): none unless listed. */
  GPUFLOW_WEBHOOK_ALLOW_PRIVATE: allowList,
  /** Encrypts every payload Temporal stores (inputs, outputs, heartbeats, signals, memo) with this AES-256 key. */
  GPUFLOW_ENCRYPTION_KEY: encryptionKey.optional(),
  /** A key ring instead of one key, for rotation: `new:<key>,old:<key>`; the first encrypts, all decrypt. */
  GPUFLOW_ENCRYPTION_KEYS: encryptionKeys.optional(),
  /** Address of the Temporal Web UI (`npm run dev` sets it): a job's view then links to its page there. */
  GPUFLOW_TEMPORAL_UI_URL: z.url().optional(),
  /** Origins of the Temporal Web UI that may call the codec endpoint (`/v1/codec`) from a browser, comma-separated. */
  GPUFLOW_CODEC_CORS_ORIGINS: z
    .string()
    .default('http://localhost:8233,http://127.0.0.1:8233')
    .transform((raw) =>
      raw
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
  /**
   * How often every worker process (TS, Python, the API's gateway) sends Temporal its worker heartbeat, which
   * `GET /v1/workers` reads; a worker is shown lost after three periods without one. Temporal accepts 1 s .. 60 s.
   */
  GPUFLOW_WORKER_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(1000).max(60_000).default(10_000),
  GPUFLOW_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * `pretty`: one readable line per job event (submitted, started, progressed, ended), no line per successful
   * request, a failed attempt's type and message only (its stack is in the job's log). `json`: structured lines for
   * a log pipeline. Unset: pretty on a terminal and under `gpuflow dev`, json otherwise.
   */
  GPUFLOW_LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  /** Largest log of one attempt of a job, bytes (past it the first and the newest lines are kept). */
  GPUFLOW_MAX_JOB_LOG_BYTES: z.coerce
    .number()
    .int()
    .min(MIN_JOB_LOG_BYTES)
    .max(MAX_JOB_LOG_CAP_BYTES)
    .default(MAX_JOB_LOG_BYTES),
  /** The Runpack face: its three keys (gpuflow keys of the matching roles), threshold and limits (config/runpack.ts). */
  ...runpackEnv,
});
export type Env = z.output<typeof EnvSchema> & {
  /**
   * How every process connects to Temporal: `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, the
   * `TEMPORAL_TLS*` variables and `temporal.toml` profiles (`TEMPORAL_PROFILE`, `TEMPORAL_CONFIG_FILE`), as in every
   * Temporal tool. @defaultValue `127.0.0.1:7233`, namespace `default`, no TLS
   */
  temporal: TemporalConnection;
  /** host:port of the Temporal frontend, as resolved into {@link Env.temporal}. */
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
};

/** S3 settings without a bucket, or half a key pair, are mistakes: say so rather than use the directory store. */
function s3ConfigProblems(env: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const set = (name: string): boolean => env[name] !== undefined;
  const given = [
    'GPUFLOW_S3_ENDPOINT',
    'GPUFLOW_S3_ACCESS_KEY_ID',
    'GPUFLOW_S3_SECRET_ACCESS_KEY',
    'GPUFLOW_S3_PREFIX',
  ];
  if (!set('GPUFLOW_S3_BUCKET') && given.some(set)) {
    ctx.addIssue({
      code: 'custom',
      path: ['GPUFLOW_S3_BUCKET'],
      message: `required with ${given.filter(set).join(', ')}: set it to use S3, or unset those for the directory store`,
    });
  }
  if (set('GPUFLOW_S3_ACCESS_KEY_ID') !== set('GPUFLOW_S3_SECRET_ACCESS_KEY')) {
    ctx.addIssue({
      code: 'custom',
      path: [set('GPUFLOW_S3_ACCESS_KEY_ID') ? 'GPUFLOW_S3_SECRET_ACCESS_KEY' : 'GPUFLOW_S3_ACCESS_KEY_ID'],
      message:
        'GPUFLOW_S3_ACCESS_KEY_ID and GPUFLOW_S3_SECRET_ACCESS_KEY go together (or neither: the AWS default chain)',
    });
  }
}

/** The key ring every client and worker encrypts with, or undefined: payloads are stored as they are. */
export function encryptionKeysOf(env: Env): EncryptionKeyEntry[] | undefined {
  return env.GPUFLOW_ENCRYPTION_KEYS ?? env.GPUFLOW_ENCRYPTION_KEY;
}

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid environment:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

/**
 * The only reader of `process.env`. Empty strings count as unset, so `FOO=` in a shell falls back to the default.
 * @throws EnvError naming every bad variable at once.
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = EnvSchema.superRefine(s3ConfigProblems).superRefine(encryptionConfigProblems).safeParse(present);
  // The Temporal variables go to envconfig explicitly: it must not read process.env behind this module's back.
  const temporal = resolveTemporalConnection(present as Record<string, string>);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)),
    ...(temporal.ok ? [] : temporal.problems),
  ];
  if (!parsed.success || !temporal.ok) throw new EnvError(problems);
  const { connection } = temporal;
  return {
    ...parsed.data,
    GPUFLOW_API_KEYS: [...parsed.data.GPUFLOW_API_KEYS, ...runpackApiKeys(parsed.data)],
    temporal: connection,
    TEMPORAL_ADDRESS: connection.address,
    TEMPORAL_NAMESPACE: connection.namespace,
  };
}

/** The environment for a child process: this one's without the variables `drop` names, with `overrides` on top. */
export function childEnv(
  overrides: Record<string, string>,
  drop: (name: string) => boolean = () => false,
): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !drop(name))), ...overrides };
}

/** The log format in effect: `GPUFLOW_LOG_FORMAT`, else pretty on a terminal and under `gpuflow dev`. */
export function logFormatOf(env: Pick<Env, 'GPUFLOW_LOG_FORMAT' | 'GPUFLOW_DEV_CHILD'>): 'pretty' | 'json' {
  return env.GPUFLOW_LOG_FORMAT ?? (env.GPUFLOW_DEV_CHILD || process.stdout.isTTY ? 'pretty' : 'json');
}
