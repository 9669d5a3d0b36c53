import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HeartbeatSchedule } from '../../activities/heartbeat-schedule.js';

describe('HeartbeatSchedule', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const schedule = (freshnessMs: number, renewMs: number) => {
    const sent: number[] = [];
    const beats = new HeartbeatSchedule({ send: () => sent.push(Date.now()), freshnessMs, renewMs });
    return { beats, sent };
  };

  it('sends nothing for a job that ends before its first renewal', () => {
    const { beats, sent } = schedule(1000, 10_000);
    beats.start();
    vi.advanceTimersByTime(9_999);
    beats.stop();
    vi.advanceTimersByTime(60_000);
    expect(sent).toHaveLength(0);
  });

  it('renews a silent job three times per lease', () => {
    const { beats, sent } = schedule(1000, 10_000);
    beats.start();
    vi.advanceTimersByTime(60_000);
    beats.stop();
    expect(sent).toHaveLength(6);
  });

  it('sends progress reported every 100 ms once per freshness, the first at once', () => {
    const { beats, sent } = schedule(1000, 10_000);
    const t0 = Date.now();
    beats.start();
    const reporter = setInterval(() => beats.changed(), 100);
    vi.advanceTimersByTime(101);
    expect(sent).toHaveLength(1);
    expect(sent[0]! - t0).toBeLessThanOrEqual(101);
    vi.advanceTimersByTime(59_899);
    clearInterval(reporter);
    beats.stop();
    expect(sent.length).toBeGreaterThanOrEqual(59);
    expect(sent.length).toBeLessThanOrEqual(62);
    // Stopping flushes the change not sent yet; before that, one heartbeat per freshness.
    for (let i = 1; i < sent.length - 1; i += 1) expect(sent[i]! - sent[i - 1]!).toBeGreaterThanOrEqual(1000);
  });

  it('sends a job that reports every second at a 5 s freshness 12 times a minute', () => {
    const { beats, sent } = schedule(5000, 10_000);
    beats.start();
    const reporter = setInterval(() => beats.changed(), 1000);
    vi.advanceTimersByTime(60_000);
    clearInterval(reporter);
    beats.stop();
    expect(sent.length).toBeGreaterThanOrEqual(11);
    expect(sent.length).toBeLessThanOrEqual(13);
  });
});
