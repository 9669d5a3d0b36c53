/** The job protocol between job workers (any language) and gpuflow: see PROTOCOL.md beside this file. */
export * from './activity.js';
export * from './blobs.js';
export * from './failures.js';
export * from './heartbeat.js';
export * from './logs.js';
export * from './search-attributes.js';
export * from './signals.js';
export * from './stream.js';
export * from './task-queues.js';
