export { runJob } from './run-job.js';
export { jobTypeCatalog } from './job-type-catalog.js';
export { deliverWebhook } from './deliver-webhook.js';
