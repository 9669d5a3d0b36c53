import type { JobOutcome } from './job-view.js';

/**
 * Outputs of completed runs, by run id. A closed run never changes, so an entry never goes stale: a status read
 * or a duplicate submission of a completed job skips fetching the run's history again. Bounded in entries and in
 * the size of what it keeps; the least recently used entry goes first.
 */
export class CompletedRunOutputs {
  private readonly entries = new Map<string, JobOutcome>();

  /**
   * @param maxEntries @defaultValue 256
   * @param maxOutputChars outputs whose JSON is longer are not kept. @defaultValue 65536
   */
  constructor(
    private readonly maxEntries = 256,
    private readonly maxOutputChars = 64 * 1024,
  ) {}

  get(runId: string): JobOutcome | undefined {
    const hit = this.entries.get(runId);
    if (hit) {
      this.entries.delete(runId);
      this.entries.set(runId, hit);
    }
    return hit;
  }

  /** Keeps a completed run's outcome; anything else is ignored. */
  remember(runId: string, outcome: JobOutcome): void {
    if (outcome.kind !== 'completed' || this.entries.has(runId)) return;
    if ((JSON.stringify(outcome.output) ?? '').length > this.maxOutputChars) return;
    this.entries.set(runId, outcome);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
