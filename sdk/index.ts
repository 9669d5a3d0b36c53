/** The handler SDK, exported as `gpuflow/worker`. */
export { defineJob, isJobDefinition } from './define-job.js';
export type {
  BatchJobDefinition,
  JobContext,
  JobDefinition,
  JobDefinitionOptions,
  SingleJobDefinition,
} from './define-job.js';
export type { BatchContext, BatchItemResult, BatchJobDefinitionOptions, BatchOptions } from './batch.js';
export { JobError, isJobError } from './job-error.js';
export type { JobErrorOptions } from './job-error.js';
