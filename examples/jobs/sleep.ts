import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from '../../sdk/index.js';

const TICK_MS = 250;

/** How far a sleep got, saved each second: a retry (after a lost worker, say) sleeps only what is left. */
const Checkpoint = z.object({ sleptSeconds: z.number().min(0) });

/**
 * Sleeps, reporting progress and checkpointing once a second; stops at once when its signal aborts. Its output
 * says how much of the sleep was done by earlier attempts.
 */
export default defineJob({
  type: 'sleep',
  input: z.strictObject({ seconds: z.number().min(0).max(3600) }),
  async handler({ seconds }, ctx) {
    const resumed = Checkpoint.safeParse(ctx.resumeFrom);
    const resumedFrom = resumed.success ? Math.min(resumed.data.sleptSeconds, seconds) : 0;
    if (resumedFrom > 0) ctx.log(`resuming after ${resumedFrom} s slept by an earlier attempt`);
    const totalMs = seconds * 1000;
    const startedAt = Date.now() - resumedFrom * 1000;
    let reportedSeconds = -1;
    for (let elapsed = resumedFrom * 1000; elapsed < totalMs; elapsed = Date.now() - startedAt) {
      const sleptSeconds = Math.floor(elapsed / 1000);
      if (sleptSeconds > reportedSeconds) {
        ctx.progress((elapsed / totalMs) * 100, `slept ${sleptSeconds} of ${seconds} s`);
        if (sleptSeconds > resumedFrom) ctx.checkpoint({ sleptSeconds });
        reportedSeconds = sleptSeconds;
      }
      await sleep(Math.min(TICK_MS, totalMs - elapsed), undefined, { signal: ctx.signal });
    }
    ctx.progress(100, 'done');
    return { slept: seconds, resumedFrom };
  },
});
