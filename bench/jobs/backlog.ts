import { z } from 'zod';
import { defineJob } from '../../sdk/index.js';
import { stamp } from './work.js';

/** gpuflow's backlog bench job: does nothing and returns when its handler ran, so the drain rate needs no waiter's clock. */
export default defineJob({
  type: 'bench-backlog',
  input: z.object({ data: z.string() }),
  handler: () => stamp(),
});
