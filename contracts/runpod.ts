import { z } from 'zod';
import { JobStatusSchema } from './status.js';
import { FailureTypes } from '../protocol/failures.js';

/*
 * The RunPod Serverless face (`/runpod/v2/{endpoint}/...`): request and answer shapes as RunPod's SDKs send and read
 * them (see RUNPOD-PROTOCOL.md, section B). The endpoint id is the gpuflow job type.
 */

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;

/**
 * Where a job submitted through the RunPod face carries RunPod's job-level fields (`s3Config`): an object under this
 * reserved key of the job's input, `{"prompt": "hi", "$runpod": {"s3Config": {...}}}`. RunPod hands them to the
 * worker beside `input` (`job["s3Config"]`); gpuflow has one input per job, so they travel inside it. A RunPod
 * handler never sees the key: the worker gateway and `gpuflow-worker --runpod` move the fields back out beside
 * `input`, as RunPod does. A native handler reads `input.$runpod.s3Config`.
 */
export const RUNPOD_FIELDS_KEY = '$runpod';

/** A job as a RunPod worker receives it: `{id, input, ...fields}`, RunPod's fields taken out of the input. */
export function runpodJobOf(id: string, input: unknown): { id: string; input: unknown; [field: string]: unknown } {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || !(RUNPOD_FIELDS_KEY in input)) {
    return { id, input };
  }
  const { [RUNPOD_FIELDS_KEY]: fields, ...rest } = input as Record<string, unknown>;
  const extra = typeof fields === 'object' && fields !== null && !Array.isArray(fields) ? fields : {};
  return { ...extra, id, input: rest };
}

/**
 * Failure types that carry the `error` value a RunPod worker sent (the gateway fails the attempt with one of them):
 * `RunPodError` when it was a string (the message is that string, as sent), `RunPodErrorValue` when it was any other
 * JSON value (the message is its JSON text). The RunPod face answers the value as sent; any other failure shows as its
 * message, the way a RunPod handler's `{"error": "..."}` does.
 */
export const RunPodFailureTypes = { text: FailureTypes.runPodError, value: FailureTypes.runPodErrorValue } as const;

/** `s3Config` of a RunPod request: handed to the worker as is (RunPod's JS SDK adds `objectPath`). */
export const RunPodS3ConfigSchema = z.looseObject({
  accessId: z.string(),
  accessSecret: z.string(),
  bucketName: z.string(),
  endpointUrl: z.string(),
  objectPath: z.string().optional(),
});

/** `policy` of a RunPod request, ms, with RunPod's bounds. */
export const RunPodPolicySchema = z.object({
  /** @defaultValue 600000 */
  executionTimeout: z
    .number()
    .int()
    .min(5 * SECOND_MS)
    .max(7 * DAY_MS)
    .optional(),
  /** From submission, queue time included. @defaultValue 86400000 */
  ttl: z
    .number()
    .int()
    .min(10 * SECOND_MS)
    .max(7 * DAY_MS)
    .optional(),
  /** Dispatched after every normal job of the type (gpuflow priority 5 instead of 3). */
  lowPriority: z.boolean().optional(),
});

/**
 * Body of `/run` and `/runsync`. Unknown fields are ignored, as RunPod does (`webhookV2`, ...). `gpuflow` is this
 * server's own opt-in: dedup on a hash of the input (or on `idempotencyKey`) instead of a new job per request.
 */
export const RunPodRunBodySchema = z.object({
  input: z.unknown().refine((value) => value !== undefined, 'required: any JSON value'),
  webhook: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .max(2048)
    .optional(),
  policy: RunPodPolicySchema.optional(),
  s3Config: RunPodS3ConfigSchema.optional(),
  gpuflow: z
    .strictObject({
      /** @defaultValue false: every request is a new job, as on RunPod */
      dedup: z.boolean().optional(),
      idempotencyKey: z.string().min(1).max(256).optional(),
    })
    .optional(),
});
export type RunPodRunBody = z.output<typeof RunPodRunBodySchema>;

export const RunPodEndpointParams = z.object({ endpoint: z.string().min(1).max(63) });
export const RunPodJobParams = RunPodEndpointParams.extend({ id: z.string().min(1).max(255) });

/** The default and the bounds of `?wait=` on `/runsync` and `/status-sync`, ms; values outside are clamped. */
export const RUNPOD_WAIT_MS = { default: 90_000, min: 1000, max: 300_000 } as const;

export const RunPodWaitQuerySchema = z.object({
  wait: z.coerce
    .number()
    .int()
    .optional()
    .transform((ms) => Math.min(RUNPOD_WAIT_MS.max, Math.max(RUNPOD_WAIT_MS.min, ms ?? RUNPOD_WAIT_MS.default))),
});

/** What `/status`, `/runsync` and `/status-sync` answer. */
export const RunPodJobViewSchema = z.object({
  id: z.string(),
  status: JobStatusSchema,
  /** Queue wait of the running or last attempt, ms. */
  delayTime: z.number().int().optional(),
  /** Run time so far (IN_PROGRESS) or of the last attempt, ms. */
  executionTime: z.number().int().optional(),
  workerId: z.string().optional(),
  /** COMPLETED: the result; IN_PROGRESS: the last progress. */
  output: z.unknown().optional(),
  /** FAILED, TIMED_OUT: the error as the worker sent it. */
  error: z.unknown().optional(),
});
export type RunPodJobView = z.output<typeof RunPodJobViewSchema>;

export const RunPodJobStatusSchema = z.object({ id: z.string(), status: JobStatusSchema });

export const RunPodStreamSchema = z.object({
  id: z.string(),
  status: JobStatusSchema,
  /** Only the chunks no earlier `/stream` call of this job returned. */
  stream: z.array(z.object({ output: z.unknown() })),
});
export type RunPodStream = z.output<typeof RunPodStreamSchema>;

export const RunPodPurgeSchema = z.object({ removed: z.number().int(), status: z.literal('completed') });

const count = z.number().int().min(0);
export const RunPodHealthSchema = z.object({
  jobs: z.object({ completed: count, failed: count, inProgress: count, inQueue: count, retried: count }),
  workers: z.object({
    idle: count,
    running: count,
    initializing: count,
    ready: count,
    throttled: count,
    unhealthy: count,
  }),
});
export type RunPodHealth = z.output<typeof RunPodHealthSchema>;
