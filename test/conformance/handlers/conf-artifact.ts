import { z } from 'zod';
import { defineJob } from '../../../sdk/index.js';
import { confType } from './suffix.js';

/** Stores `report.txt` (its text) as an artifact of the job. */
export default defineJob({
  type: confType('conf-artifact'),
  input: z.object({ text: z.string() }),
  async handler({ text }, ctx) {
    await ctx.artifact('report.txt', text, 'text/plain');
    return { stored: 'report.txt' };
  },
});
