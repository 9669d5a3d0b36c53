import { STREAM_LIMITS } from '../../protocol/stream.js';

/** A chunk larger than `STREAM_LIMITS.maxChunkBytes`: the attempt fails, non-retryable (`StreamChunkTooLarge`). */
export class ChunkTooLargeError extends Error {
  constructor(bytes: number) {
    super(`a stream chunk of ${bytes} bytes is over the limit of ${STREAM_LIMITS.maxChunkBytes} bytes`);
    this.name = 'ChunkTooLargeError';
  }
}

/**
 * The chunks a runner posts to job-stream, batched as protocol/stream.ts says: at most one batch every
 * `flushIntervalMs`, sooner when `maxBatchBytes` are pending (and then the post waits for the send: the runpod
 * worker awaits each chunk post, which is its backpressure), batches one at a time and in order, within the
 * attempt's share of the run budget (attempt n: `1 / 2^n`); past it, chunks are no longer streamed live.
 */
export class StreamBatcher {
  private pending: unknown[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastSentMs = 0;
  private sending: Promise<void> = Promise.resolve();
  private batches = 0;
  private bytes = 0;
  private capped = false;

  constructor(
    private readonly attempt: number,
    private readonly send: (chunks: unknown[]) => Promise<void>,
    private readonly onCapped: (why: string) => void = () => undefined,
  ) {}

  /** @throws ChunkTooLargeError */
  async push(chunk: unknown): Promise<void> {
    const value = chunk === undefined ? null : chunk;
    const size = Buffer.byteLength(JSON.stringify(value));
    if (size > STREAM_LIMITS.maxChunkBytes) throw new ChunkTooLargeError(size);
    if (this.capped) return;
    const share = 2 ** this.attempt;
    if (
      this.batches + 1 > STREAM_LIMITS.maxBatchesPerRun / share ||
      this.bytes + this.pendingBytes + size > STREAM_LIMITS.maxBytesPerRun / share
    ) {
      this.capped = true;
      this.onCapped(`attempt ${this.attempt} used its share of the stream budget: later chunks are not streamed live`);
      return;
    }
    this.pending.push(value);
    this.pendingBytes += size;
    if (this.pendingBytes >= STREAM_LIMITS.maxBatchBytes) {
      await this.flush();
      return;
    }
    if (!this.timer) {
      const waitMs = Math.max(0, this.lastSentMs + STREAM_LIMITS.flushIntervalMs - Date.now());
      this.timer = setTimeout(() => void this.flush(), waitMs);
    }
  }

  /** Sends what is pending (awaits every earlier batch first). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length > 0) {
      const chunks = this.pending;
      this.bytes += this.pendingBytes;
      this.batches++;
      this.pending = [];
      this.pendingBytes = 0;
      this.sending = this.sending.then(async () => {
        this.lastSentMs = Date.now();
        await this.send(chunks);
      });
    }
    return this.sending;
  }

  /** The attempt ended otherwise: what is pending is dropped. */
  drop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}
