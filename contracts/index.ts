export * from './status.js';
export * from './job.js';
export * from './run-job.js';
export * from './ids.js';
export * from './errors.js';
export * from './job-types.js';
export * from './admin.js';
export * from '../protocol/index.js';
