import { z } from 'zod';
import { JobError, defineJob } from '../../sdk/index.js';

/** Always fails: retried under the job's policy when `retryable`, at once FAILED when not. For trying failures out. */
export default defineJob({
  type: 'fail',
  input: z.strictObject({
    message: z.string().max(2000).default('this job always fails'),
    retryable: z.boolean().default(true),
  }),
  handler({ message, retryable }, ctx): never {
    ctx.log(`failing on attempt ${ctx.attempt}: ${message}`);
    throw new JobError(message, { retryable });
  },
});
