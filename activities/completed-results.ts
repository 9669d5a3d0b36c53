import { ExecuteJobResultSchema, type ExecuteJobResult } from '../protocol/activity.js';
import { completedResultKey } from '../protocol/blobs.js';
import type { BlobStore } from '../storage/blob-store.js';

/**
 * The results of finished handlers, kept in the blob store per run so that no handler runs twice because its
 * completion could not be reported: the SDK gives up reporting after about 10 s of a server that does not answer,
 * the attempt's lease then runs out, and Temporal schedules the next attempt of the same run.
 */
export function completedResults(store: BlobStore, jobId: string, runId: string) {
  const key = completedResultKey(jobId, runId);
  return {
    /** Kept before the attempt reports its completion: once reported, nothing reads it again. */
    async keep(result: ExecuteJobResult): Promise<void> {
      await store.put(key, Buffer.from(JSON.stringify(result), 'utf8'), 'application/json');
    },
    /** What an earlier attempt of this run finished with, or null. A damaged blob counts as none. */
    async find(): Promise<ExecuteJobResult | null> {
      const blob = await store.get(key);
      if (!blob) return null;
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(blob.body).toString('utf8'));
      } catch {
        return null;
      }
      const parsed = ExecuteJobResultSchema.safeParse(value);
      return parsed.success ? parsed.data : null;
    },
  };
}
