import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobLogWriter } from '../../storage/job-log-writer.js';
import { jobLogPage, readJobLog } from '../../jobs/job-logs.js';
import { MAX_LOG_LINE_CHARS } from '../../protocol/heartbeat.js';
import { JOB_LOG_CONTENT_TYPE, jobLogKey } from '../../protocol/logs.js';
import { DirectoryBlobStore } from '../../storage/directory-blob-store.js';

let dir: string;
let store: DirectoryBlobStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpuflow-log-unit-'));
  store = new DirectoryBlobStore(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('JobLogWriter', () => {
  it('writes JSON Lines at logs/<jobId>/<attempt>.jsonl, each line with its attempt and time', async () => {
    const writer = new JobLogWriter(store, 'echo-1', 2);
    writer.append('first', new Date('2026-01-02T03:04:05.000Z'));
    writer.appendText('a\nb\r\nc\n');
    writer.append('x'.repeat(MAX_LOG_LINE_CHARS + 10));
    await writer.flush();
    const blob = await store.get(jobLogKey('echo-1', 2));
    expect(blob?.contentType).toBe(JOB_LOG_CONTENT_TYPE);
    const lines = Buffer.from(blob!.body)
      .toString()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { attempt: number; at: string; line: string });
    expect(lines[0]).toEqual({ attempt: 2, at: '2026-01-02T03:04:05.000Z', line: 'first' });
    expect(lines.slice(1, 4).map((line) => line.line)).toEqual(['a', 'b', 'c']);
    expect(lines[4]!.line).toHaveLength(MAX_LOG_LINE_CHARS);
    expect(lines.every((line) => line.attempt === 2 && !Number.isNaN(Date.parse(line.at)))).toBe(true);
  });

  it('writes nothing until it has lines, and again only when it has new ones', async () => {
    const writer = new JobLogWriter(store, 'echo-2', 1);
    await writer.flush();
    expect(await store.stat(jobLogKey('echo-2', 1))).toBeNull();
    writer.append('one');
    await writer.flush();
    const first = await store.stat(jobLogKey('echo-2', 1));
    await writer.flush();
    expect(await store.stat(jobLogKey('echo-2', 1))).toEqual(first);
  });

  it('flushes on its own at most once per interval', async () => {
    const writer = new JobLogWriter(store, 'echo-3', 1, { flushIntervalMs: 50 });
    writer.append('one');
    writer.append('two');
    expect(await store.stat(jobLogKey('echo-3', 1))).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await readJobLog(store, 'echo-3', 1)).map((line) => line.line)).toEqual(['one', 'two']);
  });

  it('past the bound keeps the first and the newest lines and says how many it dropped between them', async () => {
    const maxBytes = 8 * 1024;
    const writer = new JobLogWriter(store, 'echo-4', 1, { maxBytes });
    for (let i = 0; i < 2000; i += 1) writer.append(`line ${i}`);
    await writer.flush();
    const blob = await store.get(jobLogKey('echo-4', 1));
    expect(blob!.size).toBeLessThanOrEqual(maxBytes);
    const texts = (await readJobLog(store, 'echo-4', 1)).map((line) => line.line);
    expect(texts[0]).toBe('line 0');
    expect(texts.at(-1)).toBe('line 1999');
    const marker = texts.findIndex((text) => text.includes('lines dropped'));
    expect(marker).toBeGreaterThan(10);
    const dropped = Number(/… (\d+) lines dropped \(log over 8192 bytes\)/.exec(texts[marker]!)?.[1]);
    // Every line is either kept or counted as dropped.
    expect(texts.length - 1 + dropped).toBe(2000);
    expect(texts[marker - 1]).toBe(`line ${marker - 1}`);
    expect(texts[marker + 1]).toBe(`line ${marker + dropped}`);
  });
});

describe('job log reader', () => {
  it('reads the attempts in order, skips what does not parse, and pages with after', async () => {
    const one = new JobLogWriter(store, 'fail-1', 1);
    one.appendText('1a\n1b');
    await one.flush();
    await store.put(jobLogKey('fail-1', 2), Buffer.from('not json\n{"attempt":2}\n'), JOB_LOG_CONTENT_TYPE);
    const three = new JobLogWriter(store, 'fail-1', 3);
    three.append('3a');
    await three.flush();
    const page = await jobLogPage(store, 'fail-1', { attempt: 3, status: 'IN_PROGRESS' }, 1);
    expect(page.lines.map(({ attempt, line }) => `${attempt}:${line}`)).toEqual(['1:1b', '3:3a']);
    expect(page).toMatchObject({ next: 3, done: false });
    expect(await jobLogPage(store, 'fail-1', { attempt: 3, status: 'COMPLETED' }, 3)).toEqual({
      lines: [],
      next: 3,
      done: true,
    });
    expect((await jobLogPage(store, 'fail-1', { attempt: 1, status: 'FAILED' }, 0)).lines).toHaveLength(2);
  });
});
