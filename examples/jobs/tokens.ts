import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from '../../sdk/index.js';

/**
 * Streams its text one word at a time, as a language model streams tokens: each `yield` is a chunk that clients
 * read live from `GET /v1/jobs/:id/stream`. The output is every chunk, in order.
 */
export default defineJob({
  type: 'tokens',
  input: z.strictObject({
    text: z.string().max(100_000),
    delayMs: z.number().int().min(0).max(60_000).default(50),
  }),
  aggregateStream: true,
  async *handler({ text, delayMs }, ctx) {
    const words = text.split(/\s+/).filter(Boolean);
    for (const [index, word] of words.entries()) {
      await sleep(delayMs, undefined, { signal: ctx.signal });
      ctx.progress(((index + 1) / words.length) * 100);
      yield word;
    }
  },
});
