import { z } from 'zod';
import { defineJob } from '../../sdk/index.js';
import { tick } from './work.js';

/** gpuflow's 10 ms bench job: returns its handler's own start and end. */
export default defineJob({
  type: 'bench-tick',
  input: z.object({ data: z.string() }),
  handler: () => tick(),
});
