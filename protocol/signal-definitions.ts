import { defineSignal } from '@temporalio/workflow';
import type { AttemptFacts } from './activity.js';
import type { StreamBatch } from './stream.js';

// No zod here: the workflow bundle imports this module (readers.ts says why the workflow stays free of zod). The
// schemas of these signals' arguments are in signals.ts.

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

/** `attemptStarted`: an attempt has begun (sent by workers before issue 13; the workflow still takes it). */
export type AttemptStarted = AttemptFacts;

/** `attemptFailed`: an attempt failed with a retryable error (sent by workers before issue 13). */
export interface AttemptFailed {
  attempt: number;
}

export const attemptStartedSignal = defineSignal<[AttemptStarted]>(SignalNames.attemptStarted);
export const attemptFailedSignal = defineSignal<[AttemptFailed]>(SignalNames.attemptFailed);

/**
 * `streamChunks`: a batch of a streaming handler's chunks. The workflow keeps nothing: the API reads the batches
 * back from the workflow's history, which holds them durably, in order, with no worker needed.
 */
export const streamChunksSignal = defineSignal<[StreamBatch]>(SignalNames.streamChunks);

/** Largest JSON Schema of one type's input that the catalog keeps, in characters of its JSON; a larger one is dropped. */
export const MAX_INPUT_SCHEMA_CHARS = 16 * 1024;

/**
 * Second, optional argument of `jobTypesSeen`: each type's input JSON Schema (draft 2020-12), by type, for the
 * types whose schema the worker knows. The API checks a submission's `input` against it (a 400 naming the field);
 * a type with none is accepted as it is. Older senders pass no second argument.
 */
export type JobInputSchemas = Record<string, Record<string, unknown>>;

/**
 * `jobTypesSeen` goes to the job type catalog workflow, not to a job: the job types a worker serves, sent with
 * signal-with-start when it starts (Temporal can neither list task queues nor group by a Keyword attribute).
 */
export const jobTypesSeenSignal = defineSignal<[string[], JobInputSchemas?]>(SignalNames.jobTypesSeen);
