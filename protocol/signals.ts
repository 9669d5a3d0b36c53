import { defineSignal } from '@temporalio/workflow';
import { z } from 'zod';
import { AttemptFactsSchema, type AttemptFacts } from './activity.js';
import { StreamBatchSchema, type StreamBatch } from './stream.js';

/**
 * Signals a job worker sends to its job's workflow (the workflow id is the job id; send to the run the activity
 * belongs to). Each is one history event and one billable action, so there are as few as the views allow. All are
 * best effort but `streamChunks`: a lost `attemptStarted` or `attemptFailed` only makes listings lag.
 */
export const SignalNames = {
  attemptStarted: 'attemptStarted',
  attemptFailed: 'attemptFailed',
  streamChunks: 'streamChunks',
  /** To the job type catalog workflow, not to a job (see `jobTypesSeenSignal`). */
  jobTypesSeen: 'jobTypesSeen',
} as const;

/** `attemptStarted`: an attempt has begun; listings show the job IN_PROGRESS from then on. */
export const AttemptStartedSchema = AttemptFactsSchema;
export type AttemptStarted = AttemptFacts;

/** `attemptFailed`: an attempt failed with a retryable error; listings show the job IN_QUEUE until the next. */
export const AttemptFailedSchema = z.object({ attempt: z.number().int().min(1) });
export type AttemptFailed = z.output<typeof AttemptFailedSchema>;

export const attemptStartedSignal = defineSignal<[AttemptStarted]>(SignalNames.attemptStarted);
export const attemptFailedSignal = defineSignal<[AttemptFailed]>(SignalNames.attemptFailed);

/**
 * `streamChunks`: a batch of a streaming handler's chunks. The workflow keeps nothing: the API reads the batches
 * back from the workflow's history, which holds them durably, in order, with no worker needed.
 */
export const streamChunksSignal = defineSignal<[StreamBatch]>(SignalNames.streamChunks);
export { StreamBatchSchema };

/**
 * `jobTypesSeen` goes to the job type catalog workflow, not to a job: the job types a worker serves, sent with
 * signal-with-start when it starts (Temporal can neither list task queues nor group by a Keyword attribute).
 */
export const JobTypesSeenSchema = z.array(z.string());

/** Largest JSON Schema of one type's input that the catalog keeps, in characters of its JSON; a larger one is dropped. */
export const MAX_INPUT_SCHEMA_CHARS = 16 * 1024;

/**
 * Second, optional argument of `jobTypesSeen`: each type's input JSON Schema (draft 2020-12), by type, for the
 * types whose schema the worker knows. The API checks a submission's `input` against it (a 400 naming the field);
 * a type with none is accepted as it is. Older senders pass no second argument.
 */
export const JobInputSchemasSchema = z.record(z.string(), z.record(z.string(), z.unknown()));
export type JobInputSchemas = z.output<typeof JobInputSchemasSchema>;

export const jobTypesSeenSignal = defineSignal<[string[], JobInputSchemas?]>(SignalNames.jobTypesSeen);
