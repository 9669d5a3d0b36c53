import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  AttemptFactsSchema,
  EXECUTE_JOB_ACTIVITY,
  ExecuteJobInputSchema,
  ExecuteJobResultSchema,
  PROTOCOL_VERSION,
} from '../protocol/activity.js';
import {
  ARTIFACT_NAME_PATTERN,
  ArtifactSchema,
  BlobRefSchema,
  BlobStoreMarkerSchema,
  DEFAULT_PAYLOAD_THRESHOLD_BYTES,
  MAX_ARTIFACTS_PER_JOB,
  MAX_PAYLOAD_THRESHOLD_BYTES,
} from '../protocol/blobs.js';
import {
  AttemptFailureDetailsSchema,
  FailureTypes,
  JobFailureDetailsSchema,
  NON_RETRYABLE_FAILURE_TYPES,
  TIMEOUT_FAILURE_TYPES,
} from '../protocol/failures.js';
import {
  HEARTBEAT_LOG_LINES,
  HeartbeatDetailsSchema,
  MAX_CHECKPOINT_BYTES,
  MAX_LOG_LINE_CHARS,
  ProgressSchema,
} from '../protocol/heartbeat.js';
import { JOB_LOG_CONTENT_TYPE, JobLogLineSchema, MAX_JOB_LOG_BYTES } from '../protocol/logs.js';
import { JobStatusKey, JobTypeKey } from '../protocol/search-attributes.js';
import {
  AttemptFailedSchema,
  AttemptStartedSchema,
  JobInputSchemasSchema,
  JobTypesSeenSchema,
  MAX_INPUT_SCHEMA_CHARS,
  SignalNames,
  StreamBatchSchema,
  jobTypesSeenSignal,
} from '../protocol/signals.js';
import { STREAM_LIMITS } from '../protocol/stream.js';
import { CONTROL_TASK_QUEUE, jobTaskQueue } from '../protocol/task-queues.js';

/** Where the generated files live, committed: every worker implementation in any language reads them. */
export const PROTOCOL_SCHEMA_DIR = fileURLToPath(new URL('../protocol/schema/', import.meta.url));

const SCHEMA_BASE_URL = 'https://gpuflow.dev/protocol/schema/';

/** One JSON Schema per protocol message, named by file. */
const MESSAGES: Record<string, { schema: z.ZodType; description: string }> = {
  'execute-job-input': {
    schema: ExecuteJobInputSchema,
    description: `Argument of the ${EXECUTE_JOB_ACTIVITY} activity`,
  },
  'execute-job-result': {
    schema: ExecuteJobResultSchema,
    description: `Result of the ${EXECUTE_JOB_ACTIVITY} activity`,
  },
  'attempt-facts': { schema: AttemptFactsSchema, description: 'Facts of one attempt, as the worker saw them' },
  'heartbeat-details': { schema: HeartbeatDetailsSchema, description: 'The one argument of every heartbeat' },
  progress: { schema: ProgressSchema, description: 'A job progress report (inside the heartbeat details)' },
  'signal-attempt-started': {
    schema: AttemptStartedSchema,
    description: `Argument of the ${SignalNames.attemptStarted} signal`,
  },
  'signal-attempt-failed': {
    schema: AttemptFailedSchema,
    description: `Argument of the ${SignalNames.attemptFailed} signal`,
  },
  'signal-stream-chunks': {
    schema: StreamBatchSchema,
    description: `Argument of the ${SignalNames.streamChunks} signal`,
  },
  'signal-job-types-seen': {
    schema: JobTypesSeenSchema,
    description: `Argument of the ${jobTypesSeenSignal.name} signal (to the job type catalog workflow)`,
  },
  'signal-input-schemas': {
    schema: JobInputSchemasSchema,
    description: `Optional second argument of the ${jobTypesSeenSignal.name} signal: each type's input JSON Schema, by type`,
  },
  'attempt-failure-details': {
    schema: AttemptFailureDetailsSchema,
    description: "First detail of a worker's ApplicationFailure or cancellation",
  },
  'job-failure-details': {
    schema: JobFailureDetailsSchema,
    description: "First detail of the ApplicationFailure a failed job's workflow ends with",
  },
  'blob-ref': { schema: BlobRefSchema, description: 'A large input or output stored in the blob store, by reference' },
  'blob-store-marker': {
    schema: BlobStoreMarkerSchema,
    description: "The API's blob store marker, stored at store-markers/<token>.json and passed to every attempt",
  },
  artifact: { schema: ArtifactSchema, description: 'A file a handler stored, as the worker lists it' },
  'job-log-line': {
    schema: JobLogLineSchema,
    description: "One line of a job attempt's log blob (JSON Lines at logs/<jobId>/<attempt>.jsonl)",
  },
};

/** Every named constant a worker implementation needs, in one JSON document. */
function constants(): unknown {
  return {
    protocolVersion: PROTOCOL_VERSION,
    activity: EXECUTE_JOB_ACTIVITY,
    taskQueues: { jobPrefix: jobTaskQueue(''), control: CONTROL_TASK_QUEUE },
    signals: { ...SignalNames, jobTypesSeen: jobTypesSeenSignal.name },
    failureTypes: FailureTypes,
    nonRetryableFailureTypes: [...NON_RETRYABLE_FAILURE_TYPES],
    timeoutFailureTypes: [...TIMEOUT_FAILURE_TYPES],
    heartbeat: {
      logLines: HEARTBEAT_LOG_LINES,
      maxLogLineChars: MAX_LOG_LINE_CHARS,
      maxCheckpointBytes: MAX_CHECKPOINT_BYTES,
    },
    stream: STREAM_LIMITS,
    jobTypeCatalog: { maxInputSchemaChars: MAX_INPUT_SCHEMA_CHARS },
    artifacts: { namePattern: ARTIFACT_NAME_PATTERN.source, maxPerJob: MAX_ARTIFACTS_PER_JOB },
    payloads: {
      defaultThresholdBytes: DEFAULT_PAYLOAD_THRESHOLD_BYTES,
      maxThresholdBytes: MAX_PAYLOAD_THRESHOLD_BYTES,
    },
    logs: { key: 'logs/<jobId>/<attempt>.jsonl', contentType: JOB_LOG_CONTENT_TYPE, maxBytes: MAX_JOB_LOG_BYTES },
    searchAttributes: { jobType: JobTypeKey.name, jobStatus: JobStatusKey.name },
  };
}

const asJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** The files of `protocol/schema/`, by name, as the zod sources produce them today. */
export function protocolSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, { schema, description }] of Object.entries(MESSAGES)) {
    // `io: 'input'` keeps optional fields optional: these schemas describe what a worker may send.
    const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'throw' });
    files.set(`${name}.json`, asJson({ $id: `${SCHEMA_BASE_URL}${name}.json`, title: name, description, ...json }));
  }
  files.set('constants.json', asJson(constants()));
  return files;
}

/** Writes `protocol/schema/` afresh (a file no message produces any more is removed). */
export function writeProtocolSchema(dir = PROTOCOL_SCHEMA_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const files = protocolSchemaFiles();
  for (const old of readdirSync(dir)) if (!files.has(old)) rmSync(join(dir, old));
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return [...files.keys()];
}

// `npm run protocol:schema` regenerates the committed files; a unit test fails when they drift.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const written = writeProtocolSchema();
  process.stdout.write(`wrote ${written.length} files to ${PROTOCOL_SCHEMA_DIR}\n`);
}
