export * from './status.js';
export * from './job.js';
export * from './execution.js';
export * from './ids.js';
export * from './errors.js';
export * from './task-queues.js';
export * from './search-attributes.js';
export * from './messages.js';
