// The gateway writes a Runpack runner's console output with the very same writer the workers use.
import { JobLogWriter } from '../../storage/job-log-writer.js';
import type { GatewayCore } from './gateway-core.js';
import type { HeldJob } from './held-jobs.js';

/**
 * The console output of the Runpack jobs this replica holds, one {@link JobLogWriter} per attempt
 * (`logs/<jobId>/<attempt>.jsonl`): written on every report that carries some, and once more before the attempt
 * ends. Without a blob store nothing is kept.
 */
export class RunpackLogs {
  private readonly writers = new Map<string, JobLogWriter>();

  constructor(
    private readonly core: GatewayCore,
    private readonly maxBytes: number | undefined,
  ) {}

  /** Appends a report's console output (split into lines) and writes the log; `last`: the attempt is ending. */
  async write(job: HeldJob, text: string | undefined, last = false): Promise<void> {
    const store = this.core.options.blobs;
    if (!store) return;
    let writer = this.writers.get(job.id);
    if (!writer && text) {
      writer = new JobLogWriter(store, job.jobId, job.attempt, { maxBytes: this.maxBytes });
      this.writers.set(job.id, writer);
    }
    if (text) writer?.appendText(text);
    if (last) await this.flush(job);
    else await writer?.flush().catch((err: unknown) => this.warn(err, job));
  }

  /** The last write of an attempt's log (the attempt is ending, however). */
  async flush(job: HeldJob): Promise<void> {
    const writer = this.writers.get(job.id);
    this.writers.delete(job.id);
    await writer?.flush().catch((err: unknown) => this.warn(err, job));
  }

  private warn(err: unknown, job: HeldJob): void {
    this.core.log.warn({ err, job: job.jobId }, 'runpack: could not write the console output');
  }
}
