import { z } from 'zod';
import { JobError, defineJob } from '../../../sdk/index.js';
import { confType } from './suffix.js';

/** Fails with a JobError, retryable or not. */
export default defineJob({
  type: confType('conf-fail'),
  input: z.object({ message: z.string(), retryable: z.boolean() }),
  handler({ message, retryable }): never {
    throw new JobError(message, { retryable });
  },
});
