import { describe, expect, it } from 'vitest';
import type { BenchReport } from '../../bench/harness.js';
import { formatTable } from '../../bench/report.js';
import type { ResultRow } from '../../bench/types.js';

const row = (system: ResultRow['system'], metric: ResultRow['metric'], value: number): ResultRow => ({
  workload: metric === 'gap_ms' ? 'dispatch-gap' : 'latency',
  system,
  metric,
  concurrency: 1,
  value,
});

describe('bench report table', () => {
  it('compares each gpuflow variant with gpuflow, and gpuflow with each peer', () => {
    const report: BenchReport = {
      machine: {},
      settings: {},
      results: [
        row('gpuflow', 'p50_ms', 100),
        row('gpuflow-python', 'p50_ms', 110),
        row('gpuflow-runpod-gateway', 'p50_ms', 1100),
        row('temporal', 'p50_ms', 50),
        row('gpuflow-runpod-gateway', 'gateway_p50_ms', 4),
      ],
    };
    const lines = formatTable(report).split('\n');
    expect(lines[0]).toBe(
      '| workload | metric | C | gpuflow | gpuflow-python | gpuflow-runpod-gateway | temporal | ' +
        'gpuflow-python ÷ gpuflow | gpuflow-runpod-gateway ÷ gpuflow | gpuflow ÷ temporal |',
    );
    expect(lines[2]).toBe('| latency | p50_ms ↓ | 1 | 100 | 110 | 1100 | 50 | 1.1× | 11× | 2× |');
    expect(lines[3]).toBe('| latency | gateway_p50_ms ↓ | 1 | — | — | 4 | — | — | — | — |');
  });

  it('leaves the ratio columns out without gpuflow', () => {
    const report: BenchReport = { machine: {}, settings: {}, results: [row('gpuflow-python', 'gap_ms', 12)] };
    expect(formatTable(report).split('\n')[0]).toBe('| workload | metric | C | gpuflow-python |');
  });
});
