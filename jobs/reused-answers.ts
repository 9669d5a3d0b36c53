/**
 * Answers of Temporal reused per key for `ttlMs`: the requests of one window, and concurrent ones, share one call. A
 * failed answer is not kept (the next request asks again). Any key may be asked for, and a stale entry is only
 * replaced when asked again, so past `maxKeys` keys the whole map is dropped.
 */
export class ReusedAnswers<T> {
  private readonly answers = new Map<string, { at: number; answer: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxKeys = 1000,
  ) {}

  /** The answer for `key` asked within `ttlMs`, else a new one from `ask`. */
  get(key: string, ask: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const cached = this.answers.get(key);
    if (cached && now - cached.at < this.ttlMs) return cached.answer;
    if (this.answers.size >= this.maxKeys) this.answers.clear();
    const answer = ask();
    this.answers.set(key, { at: now, answer });
    answer.catch(() => {
      if (this.answers.get(key)?.answer === answer) this.answers.delete(key);
    });
    return answer;
  }
}
