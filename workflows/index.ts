export { runJob } from './run-job.js';
export { jobTypeCatalog } from './job-type-catalog.js';
