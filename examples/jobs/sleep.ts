import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from '../../workers/index.js';

const TICK_MS = 250;

/** Sleeps, reporting progress at least once a second; stops at once when its signal aborts. */
export default defineJob({
  type: 'sleep',
  input: z.strictObject({ seconds: z.number().min(0).max(3600) }),
  async handler({ seconds }, ctx) {
    const totalMs = seconds * 1000;
    const startedAt = Date.now();
    let reportedAt = 0;
    for (let elapsed = 0; elapsed < totalMs; elapsed = Date.now() - startedAt) {
      if (elapsed - reportedAt >= 1000 || reportedAt === 0) {
        ctx.progress((elapsed / totalMs) * 100, `slept ${Math.floor(elapsed / 1000)} of ${seconds} s`);
        reportedAt = Math.max(elapsed, 1);
      }
      await sleep(Math.min(TICK_MS, totalMs - elapsed), undefined, { signal: ctx.signal });
    }
    ctx.progress(100, 'done');
    return { slept: seconds };
  },
});
