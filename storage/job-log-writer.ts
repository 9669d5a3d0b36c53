import { MAX_LOG_LINE_CHARS } from '../protocol/heartbeat.js';
import {
  JOB_LOG_CONTENT_TYPE,
  MAX_JOB_LOG_BYTES,
  MIN_JOB_LOG_BYTES,
  droppedLinesText,
  jobLogKey,
  type JobLogLine,
} from '../protocol/logs.js';
import type { BlobStore } from './blob-store.js';

export interface JobLogWriterOptions {
  /** Largest blob, bytes (at least `MIN_JOB_LOG_BYTES`). @defaultValue MAX_JOB_LOG_BYTES (1 MiB) */
  maxBytes?: number;
  /**
   * Set: `append` schedules a flush at most this often, ms (the heartbeat interval). Unset: the caller flushes.
   * A lost worker loses at most this interval's lines.
   */
  flushIntervalMs?: number;
  /** A scheduled flush that failed (a flush called by the caller rejects instead). @defaultValue ignore */
  onError?: (err: unknown) => void;
}

/** Room kept for the "lines dropped" line, bytes. */
const DROPPED_LINE_BYTES = 160;

/**
 * The log of one attempt of a job, kept in memory and written whole to the job's blob store (`put` replaces
 * atomically: a reader sees the previous version or this one), at `logs/<jobId>/<attempt>.jsonl`. Bounded: past
 * `maxBytes` it keeps the first lines (half the bound) and the newest, with one line between them saying how many
 * were dropped. Call `flush()` once more when the attempt ends, however it ends.
 */
export class JobLogWriter {
  readonly key: string;
  private readonly maxBytes: number;
  private readonly head: string[] = [];
  private headBytes = 0;
  private readonly tail: string[] = [];
  private tailStart = 0;
  private tailBytes = 0;
  private dropped = 0;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: BlobStore,
    jobId: string,
    private readonly attempt: number,
    private readonly options: JobLogWriterOptions = {},
  ) {
    this.key = jobLogKey(jobId, attempt);
    this.maxBytes = Math.max(MIN_JOB_LOG_BYTES, options.maxBytes ?? MAX_JOB_LOG_BYTES);
  }

  /** Adds one line (cut at `MAX_LOG_LINE_CHARS`; a newline in it is kept inside the JSON string). */
  append(line: string, at: Date = new Date()): void {
    const entry: JobLogLine = { attempt: this.attempt, at: at.toISOString(), line: line.slice(0, MAX_LOG_LINE_CHARS) };
    const json = JSON.stringify(entry);
    const bytes = Buffer.byteLength(json) + 1;
    const half = Math.floor((this.maxBytes - DROPPED_LINE_BYTES) / 2);
    if (this.tail.length === this.tailStart && this.headBytes + bytes <= half) {
      this.head.push(json);
      this.headBytes += bytes;
    } else {
      this.tail.push(json);
      this.tailBytes += bytes;
      while (this.tailBytes > half && this.tail.length - this.tailStart > 1) {
        this.tailBytes -= Buffer.byteLength(this.tail[this.tailStart] ?? '') + 1;
        this.tailStart += 1;
        this.dropped += 1;
      }
      // Compact now and then, not on every drop.
      if (this.tailStart > 1024 && this.tailStart * 2 > this.tail.length) {
        this.tail.splice(0, this.tailStart);
        this.tailStart = 0;
      }
    }
    this.dirty = true;
    this.schedule();
  }

  /** Adds console output: one line per line of `text` (a final newline adds no empty line; `\r\n` counts as one). */
  appendText(text: string, at: Date = new Date()): void {
    const lines = text.split(/\r?\n/);
    if (lines.at(-1) === '') lines.pop();
    for (const line of lines) this.append(line, at);
  }

  /** Writes the blob if it has lines it has not written yet. Writes never overtake each other. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.store.put(this.key, this.body(), JOB_LOG_CONTENT_TYPE);
      } catch (err) {
        this.dirty = true;
        throw err;
      }
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** Lines held (as they would be written, the "dropped" line included). */
  get lineCount(): number {
    return this.head.length + (this.dropped > 0 ? 1 : 0) + this.tail.length - this.tailStart;
  }

  private body(): Uint8Array {
    const lines = [...this.head];
    if (this.dropped > 0) {
      const first = this.tail[this.tailStart];
      const at = first ? (JSON.parse(first) as JobLogLine).at : new Date().toISOString();
      const line = droppedLinesText(this.dropped, this.maxBytes);
      lines.push(JSON.stringify({ attempt: this.attempt, at, line } satisfies JobLogLine));
    }
    for (let i = this.tailStart; i < this.tail.length; i += 1) lines.push(this.tail[i] ?? '');
    return Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8');
  }

  private schedule(): void {
    const intervalMs = this.options.flushIntervalMs;
    if (intervalMs === undefined || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err: unknown) => this.options.onError?.(err));
    }, intervalMs);
    this.timer.unref();
  }
}
