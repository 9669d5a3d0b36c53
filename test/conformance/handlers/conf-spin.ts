import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from '../../../sdk/index.js';
import { confType } from './suffix.js';

/**
 * The "sync handler" of the cancel scenario: a loop that checks for a stop between steps (Python: `ctx.cancelled`
 * in a plain `def`; here `ctx.signal.aborted`, as JS has no threads to block).
 */
export default defineJob({
  type: confType('conf-spin'),
  input: z.object({ seconds: z.number().min(0).max(600) }),
  async handler({ seconds }, ctx) {
    const deadline = Date.now() + seconds * 1000;
    ctx.progress(0, 'spinning');
    while (Date.now() < deadline) {
      if (ctx.signal.aborted) {
        ctx.log(`conf-spin stopped: ${ctx.jobId}`);
        throw ctx.signal.reason;
      }
      await sleep(50);
    }
    return { spun: seconds };
  },
});
