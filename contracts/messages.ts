import { defineSignal } from '@temporalio/workflow';
import type { AttemptStarted } from './execution.js';

/** The job worker says an attempt has begun; the workflow records who runs it and since when. */
export const attemptStartedSignal = defineSignal<[AttemptStarted]>('attemptStarted');
