import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from '../../../sdk/index.js';
import { confType } from './suffix.js';

/** Streams its words one by one; the output is every chunk. */
export default defineJob({
  type: confType('conf-stream'),
  input: z.object({ words: z.array(z.string()), delayMs: z.number().int().min(0) }),
  aggregateStream: true,
  async *handler({ words, delayMs }, ctx) {
    for (const word of words) {
      await sleep(delayMs, undefined, { signal: ctx.signal });
      yield word;
    }
  },
});
