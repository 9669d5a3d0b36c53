import { z } from 'zod';
import { defineJob } from '../../sdk/index.js';

/** Returns its input unchanged: the smallest possible job, for smoke tests and benchmarks. */
export default defineJob({
  type: 'echo',
  input: z.json(),
  handler: (input) => input,
});
