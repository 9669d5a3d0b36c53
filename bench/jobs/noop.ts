import { z } from 'zod';
import { defineJob } from '../../sdk/index.js';
import { noop } from './work.js';

/** gpuflow's no-op bench job. */
export default defineJob({
  type: 'bench-noop',
  input: z.object({ data: z.string() }),
  handler: () => noop(),
});
