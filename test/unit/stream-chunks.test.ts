import { ApplicationFailure } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { drainStream, isChunkStream } from '../../activities/stream-chunks.js';

/** A send that records each batch and when it went out. */
function recorder() {
  const batches: { chunks: unknown[]; at: number }[] = [];
  return { batches, send: async (chunks: unknown[]) => void batches.push({ chunks, at: Date.now() }) };
}

describe('drainStream (a streaming handler’s chunks on their way to the API)', () => {
  it('sends chunks in order, in batches at most one per interval, and outputs the return value', async () => {
    const { batches, send } = recorder();
    async function* tokens() {
      for (let i = 1; i <= 30; i += 1) {
        yield i;
        await sleep(5);
      }
      return 'end';
    }
    const startedAt = Date.now();
    const output = await drainStream(tokens(), {
      send,
      signal: new AbortController().signal,
      aggregate: false,
      attempt: 1,
      limits: { flushIntervalMs: 50 },
    });
    expect(output).toBe('end');
    expect(batches.flatMap((b) => b.chunks)).toEqual(Array.from({ length: 30 }, (_v, i) => i + 1));
    // About 150 ms of yielding at one batch per 50 ms: a handful of batches, never two within the interval.
    expect(batches.length).toBeLessThanOrEqual(Math.ceil((Date.now() - startedAt) / 50) + 1);
    for (let i = 1; i < batches.length; i += 1) expect(batches[i]!.at - batches[i - 1]!.at).toBeGreaterThanOrEqual(45);
  });

  it('aggregates every chunk as the output when asked, undefined chunks as null', async () => {
    const { send } = recorder();
    async function* gen() {
      yield 'a';
      yield undefined;
      yield { b: 1 };
      return 'ignored';
    }
    expect(
      await drainStream(gen(), { send, signal: new AbortController().signal, aggregate: true, attempt: 1 }),
    ).toEqual(['a', null, { b: 1 }]);
  });

  it('fails an oversized chunk without retries, and stops streaming live past the caps', async () => {
    const { batches, send } = recorder();
    async function* big() {
      yield 'x'.repeat(100);
    }
    const failure: unknown = await drainStream(big(), {
      send,
      signal: new AbortController().signal,
      aggregate: false,
      attempt: 1,
      limits: { maxChunkBytes: 50 },
    }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'StreamChunkTooLarge', nonRetryable: true });

    const capped: string[] = [];
    async function* many() {
      for (let i = 0; i < 10; i += 1) yield 'abcdefghij';
    }
    const output = await drainStream(many(), {
      send,
      signal: new AbortController().signal,
      aggregate: true,
      onCapped: (why) => capped.push(why),
      attempt: 1,
      limits: { maxBytesPerRun: 80, flushIntervalMs: 1 },
    });
    expect(output).toHaveLength(10);
    expect(batches.flatMap((b) => b.chunks)).toHaveLength(3);
    expect(capped).toHaveLength(1);
  });

  it('returns a generator that ignores its aborted signal at its next yield, so its finally runs', async () => {
    const { send } = recorder();
    const abort = new AbortController();
    let cleanedUp = false;
    async function* stubborn() {
      try {
        for (;;) {
          yield 1;
          await sleep(5);
        }
      } finally {
        cleanedUp = true;
      }
    }
    setTimeout(() => abort.abort(new Error('cancelled')), 30);
    await expect(drainStream(stubborn(), { send, signal: abort.signal, aggregate: false, attempt: 1 })).rejects.toThrow(
      'cancelled',
    );
    expect(cleanedUp).toBe(true);
  });

  it('tells a stream from a plain result', () => {
    async function* gen() {
      yield 1;
    }
    expect(isChunkStream(gen())).toBe(true);
    expect(isChunkStream(Promise.resolve(1))).toBe(false);
    expect(isChunkStream([1, 2])).toBe(false);
    expect(isChunkStream(null)).toBe(false);
  });

  it('returns the generator when a chunk is refused, so its finally runs', async () => {
    const { send } = recorder();
    let cleanedUp = false;
    async function* oversized() {
      try {
        yield 'small';
        yield 'x'.repeat(100);
      } finally {
        cleanedUp = true;
      }
    }
    await expect(
      drainStream(oversized(), {
        send,
        signal: new AbortController().signal,
        aggregate: false,
        attempt: 1,
        limits: { maxChunkBytes: 50 },
      }),
    ).rejects.toMatchObject({ type: 'StreamChunkTooLarge' });
    expect(cleanedUp).toBe(true);
  });

  it('sends nothing once the attempt has ended, not even a batch waiting behind a slow one', async () => {
    const sent: unknown[] = [];
    const slowSend = async (chunks: unknown[]) => {
      await sleep(100);
      sent.push(...chunks);
    };
    async function* failing() {
      yield 'first';
      await sleep(20);
      yield 'second'; // flushed at once, then waits behind the slow first send
      await sleep(30);
      throw new Error('boom');
    }
    await expect(
      drainStream(failing(), {
        send: slowSend,
        signal: new AbortController().signal,
        aggregate: false,
        attempt: 1,
        limits: { flushIntervalMs: 10 },
      }),
    ).rejects.toThrow('boom');
    await sleep(250);
    expect(sent).toEqual(['first']);
  });

  it('gives each retry half the stream budget of the attempt before it', async () => {
    const streamed = async (attempt: number) => {
      const { batches, send } = recorder();
      async function* many() {
        for (let i = 0; i < 100; i += 1) yield 'abcdefgh'; // 10 bytes of JSON each
      }
      await drainStream(many(), {
        send,
        signal: new AbortController().signal,
        aggregate: false,
        attempt,
        limits: { maxBytesPerRun: 800, flushIntervalMs: 0 },
      });
      return batches.flatMap((b) => b.chunks).length;
    };
    expect(await streamed(1)).toBe(40);
    expect(await streamed(2)).toBe(20);
    expect(await streamed(3)).toBe(10);
  });
});
