import { z } from 'zod';
import { defineJob } from '../../sdk/index.js';
import { BENCH_BATCH_SIZE, forwardPass } from './work.js';

const input = z.object({ data: z.string() });

/** The `batched` workload: one forward pass per batch of up to 16 jobs, gathered for at most 20 ms. */
export const batched = defineJob({
  type: 'bench-batched',
  input,
  batch: { maxSize: BENCH_BATCH_SIZE, maxWaitMs: 20 },
  async handler(inputs) {
    const batchSize = await forwardPass(inputs.length);
    return inputs.map(() => ({ batchSize }));
  },
});

/** The same forward pass, one job per call: what `batched` is measured against. */
export const unbatched = defineJob({
  type: 'bench-unbatched',
  input,
  handler: async () => ({ batchSize: await forwardPass(1) }),
});
