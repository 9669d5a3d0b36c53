/** The handler SDK, exported as `gpuflow/worker`. */
export { defineJob, isJobDefinition } from './define-job.js';
export type { JobContext, JobDefinition, JobDefinitionOptions } from './define-job.js';
export { JobError, isJobError } from './job-error.js';
export type { JobErrorOptions } from './job-error.js';
