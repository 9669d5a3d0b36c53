import { defineSignal } from '@temporalio/workflow';
import type { Artifact } from './blobs.js';
import type { AttemptFailed, AttemptStarted, StreamBatch } from './execution.js';

/** The job worker says an attempt has begun; the workflow records who runs it and since when. */
export const attemptStartedSignal = defineSignal<[AttemptStarted]>('attemptStarted');

/** The job worker says an attempt failed with a retryable error: the job waits for its next attempt. */
export const attemptFailedSignal = defineSignal<[AttemptFailed]>('attemptFailed');

/**
 * Job types someone has seen (the API on a first submit, a job worker at startup), for the job type catalog
 * workflow: Temporal can neither list task queues nor group visibility by a Keyword search attribute.
 */
export const jobTypesSeenSignal = defineSignal<[string[]]>('jobTypesSeen');

/**
 * A batch of a streaming handler's chunks. The workflow keeps nothing: the API reads the batches back from the
 * workflow's history, which holds them durably, in order, with no worker needed.
 */
export const streamChunksSignal = defineSignal<[StreamBatch]>('streamChunks');

/**
 * The artifacts an attempt stored, sent when it fails or is cancelled: a job that does not complete keeps its
 * files listed (a completed one lists them from its result).
 */
export const artifactsListedSignal = defineSignal<[{ artifacts: Artifact[] }]>('artifactsListed');
