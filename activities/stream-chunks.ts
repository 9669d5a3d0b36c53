import { ApplicationFailure } from '@temporalio/activity';
import { FailureTypes } from '../protocol/failures.js';
import { STREAM_LIMITS, type StreamLimits } from '../protocol/stream.js';

/** Sends one batch of chunks on its way (a signal to the job's workflow); resolves once it is sent or given up. */
export type SendBatch = (chunks: unknown[]) => Promise<void>;

export interface StreamOptions {
  send: SendBatch;
  /** Aborts when the attempt must stop: the generator is returned, so its `finally` runs. */
  signal: AbortSignal;
  /** Keep every chunk for an aggregated output. */
  aggregate: boolean;
  /** The attempt streaming: its share of the run's stream budget halves with each retry. */
  attempt: number;
  /** Told once when the attempt's stream passes its caps and stops streaming live. */
  onCapped?: (why: string) => void;
  limits?: Partial<StreamLimits>;
}

/** Whether a handler's result is a stream: an async generator, or any async iterator. */
export function isChunkStream(value: unknown): value is AsyncIterator<unknown> & AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' &&
    typeof (value as AsyncIterator<unknown>).next === 'function'
  );
}

/**
 * Drains a streaming handler: chunks go out in batches, at most one batch per `flushIntervalMs` (a chunk waits at
 * most that long), in order, one send at a time. Resolves with the output once every chunk has been sent: the
 * generator's return value, or the array of chunks when aggregating.
 */
export async function drainStream(stream: AsyncIterator<unknown>, options: StreamOptions): Promise<unknown> {
  const batches = new Batcher(options);
  const chunks: unknown[] = [];
  try {
    for (;;) {
      const step = await stream.next();
      if (step.done) {
        await batches.close();
        return options.aggregate ? chunks : (step.value ?? null);
      }
      // JSON is what reaches clients: `undefined` becomes null, as in an output.
      const chunk: unknown = step.value === undefined ? null : step.value;
      if (options.aggregate) chunks.push(chunk);
      await batches.push(chunk);
      // A generator that ignores its signal is stopped at its next yield.
      if (options.signal.aborted) break;
    }
  } catch (err) {
    batches.cancel();
    // A chunk refused (too large, not JSON) ends the attempt while the generator is suspended at a yield: return
    // it so that its finally (a GPU lock, a temp file) runs. Harmless when the generator itself threw.
    await stream.return?.(undefined).catch(() => undefined);
    throw err;
  }
  batches.cancel();
  await stream.return?.(undefined);
  throw options.signal.reason;
}

class Batcher {
  private readonly limits: StreamLimits;
  private pending: unknown[] = [];
  private pendingBytes = 0;
  private sentBatches = 0;
  private sentBytes = 0;
  private capped = false;
  private cancelled = false;
  private readonly maxBatches: number;
  private readonly maxBytes: number;
  private lastSendAt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The send in flight: batches go one at a time, in order. */
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly options: StreamOptions) {
    this.limits = { ...STREAM_LIMITS, ...options.limits };
    const share = 2 ** Math.max(1, options.attempt);
    this.maxBatches = Math.floor(this.limits.maxBatchesPerRun / share);
    this.maxBytes = Math.floor(this.limits.maxBytesPerRun / share);
  }

  async push(chunk: unknown): Promise<void> {
    const bytes = Buffer.byteLength(JSON.stringify(chunk));
    if (bytes > this.limits.maxChunkBytes) {
      throw ApplicationFailure.nonRetryable(
        `a stream chunk of ${bytes} bytes is over the ${this.limits.maxChunkBytes}-byte limit: yield smaller chunks`,
        FailureTypes.streamChunkTooLarge,
      );
    }
    if (this.capped) return;
    if (this.sentBatches >= this.maxBatches || this.sentBytes + this.pendingBytes + bytes > this.maxBytes) {
      this.capped = true;
      this.options.onCapped?.(
        `attempt ${this.options.attempt}'s stream passed its share of the run's budget (${this.maxBatches} batches, ${this.maxBytes} bytes): later chunks are not streamed live`,
      );
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += bytes;
    if (this.pendingBytes >= this.limits.maxBatchBytes) {
      // Backpressure: a generator that outruns the stream waits for the batch before the next one.
      await this.flush();
    } else {
      this.timer ??= setTimeout(
        () => void this.flush(),
        Math.max(0, this.lastSendAt + this.limits.flushIntervalMs - Date.now()),
      );
    }
  }

  /** Sends what is pending, after the batch in flight and not sooner than the interval allows. */
  private flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return this.sending;
    const batch = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.sending = this.sending.then(async () => {
      const wait = this.lastSendAt + this.limits.flushIntervalMs - Date.now();
      if (wait > 0) await new Promise((resolveWait) => setTimeout(resolveWait, wait));
      // An attempt that has ended sends nothing more, not even a batch that was waiting for its turn.
      if (this.cancelled) return;
      this.lastSendAt = Date.now();
      this.sentBatches += 1;
      this.sentBytes += bytes;
      await this.options.send(batch);
    });
    return this.sending;
  }

  /** Sends every pending chunk and waits until all are sent. */
  async close(): Promise<void> {
    await this.flush();
  }

  /** The attempt is over: nothing more goes out. */
  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}
