import { z } from 'zod';
import { defineJob } from '../../sdk/index.js';
import { reportProgress } from './work.js';

/** gpuflow's cost bench job: runs `seconds`, reporting progress every second. */
export default defineJob({
  type: 'bench-progress',
  input: z.object({ seconds: z.number().int().min(1).max(600) }),
  handler: ({ seconds }, ctx) => reportProgress(seconds, (percent) => ctx.progress(percent)),
});
