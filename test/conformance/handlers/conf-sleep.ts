import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from '../../../sdk/index.js';
import { confType } from './suffix.js';

/**
 * An async handler: sleeps in 100 ms ticks, progress and a checkpoint each second, resumes from the checkpoint. Its
 * output says when it ran (epoch ms), for the capacity scenario.
 */
export default defineJob({
  type: confType('conf-sleep'),
  input: z.object({ seconds: z.number().min(0).max(600) }),
  async handler({ seconds }, ctx) {
    const resumed = z.object({ sleptSeconds: z.number() }).safeParse(ctx.resumeFrom);
    const resumedFrom = resumed.success ? resumed.data.sleptSeconds : 0;
    const ranFrom = Date.now();
    const startedAt = ranFrom - resumedFrom * 1000;
    let reported = -1;
    try {
      for (let elapsed = resumedFrom * 1000; elapsed < seconds * 1000; elapsed = Date.now() - startedAt) {
        const slept = Math.floor(elapsed / 1000);
        if (slept > reported) {
          ctx.progress((elapsed / (seconds * 1000)) * 100, `slept ${slept} of ${seconds}`);
          if (slept > 0) ctx.checkpoint({ sleptSeconds: slept });
          reported = slept;
        }
        await sleep(100, undefined, { signal: ctx.signal });
      }
    } catch (error) {
      if (ctx.signal.aborted) ctx.log(`conf-sleep stopped: ${ctx.jobId}`);
      throw error;
    }
    return { slept: seconds, resumedFrom, attempt: ctx.attempt, worker: ctx.workerId, ranFrom, ranTo: Date.now() };
  },
});
