import { z } from 'zod';

/** Chunks a streaming handler yielded, sent by its worker to the job's workflow in one `streamChunks` signal. */
export const StreamBatchSchema = z.object({
  /** The attempt that yielded them: a retried attempt streams again from its start. */
  attempt: z.number().int().min(1),
  /** JSON values, each at most `STREAM_LIMITS.maxChunkBytes` as JSON. */
  chunks: z.array(z.unknown()),
});
export type StreamBatch = z.output<typeof StreamBatchSchema>;

export interface StreamLimits {
  flushIntervalMs: number;
  maxBatchBytes: number;
  maxChunkBytes: number;
  maxBatchesPerRun: number;
  maxBytesPerRun: number;
}

/**
 * How chunks travel through Temporal. Each batch is one signal (one history event plus a workflow task), so the
 * worker sends at most one every `flushIntervalMs` (sooner only when `maxBatchBytes` fill up). A run may take at
 * most 10,000 signals and 50 MiB of history, whatever its attempts do, so each attempt streams live within a share
 * of a run budget: attempt n gets `maxBatchesPerRun / 2^n` batches and `maxBytesPerRun / 2^n` bytes (half for the
 * first, a quarter for the second, ...), which sums below the budget for any number of retries. Chunks past an
 * attempt's share still count for an aggregated output.
 */
export const STREAM_LIMITS: Readonly<StreamLimits> = {
  flushIntervalMs: 250,
  maxBatchBytes: 256 * 1024,
  maxChunkBytes: 256 * 1024,
  maxBatchesPerRun: 8000,
  maxBytesPerRun: 40 * 1024 * 1024,
};
