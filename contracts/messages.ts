import { defineSignal } from '@temporalio/workflow';
import type { AttemptStarted } from './execution.js';

/** The job worker says an attempt has begun; the workflow records who runs it and since when. */
export const attemptStartedSignal = defineSignal<[AttemptStarted]>('attemptStarted');

/**
 * Job types someone has seen (the API on a first submit, a job worker at startup), for the job type catalog
 * workflow: Temporal can neither list task queues nor group visibility by a Keyword search attribute.
 */
export const jobTypesSeenSignal = defineSignal<[string[]]>('jobTypesSeen');
