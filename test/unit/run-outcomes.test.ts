import { describe, expect, it } from 'vitest';
import { CompletedRunOutputs } from '../../jobs/run-outcomes.js';

describe('CompletedRunOutputs', () => {
  it('keeps completed outputs by run id, drops the least recently used first', () => {
    const outputs = new CompletedRunOutputs(2);
    outputs.remember('a', { kind: 'completed', output: 1 });
    outputs.remember('b', { kind: 'completed', output: 2 });
    expect(outputs.get('a')).toEqual({ kind: 'completed', output: 1 });
    outputs.remember('c', { kind: 'completed', output: 3 });
    expect(outputs.get('b')).toBeUndefined();
    expect(outputs.get('a')).toEqual({ kind: 'completed', output: 1 });
    expect(outputs.get('c')).toEqual({ kind: 'completed', output: 3 });
  });

  it('keeps neither failures nor large outputs', () => {
    const outputs = new CompletedRunOutputs(10, 16);
    outputs.remember('failed', { kind: 'failed', failure: new Error('x') });
    outputs.remember('large', { kind: 'completed', output: 'x'.repeat(100) });
    outputs.remember('null', { kind: 'completed', output: null });
    expect(outputs.get('failed')).toBeUndefined();
    expect(outputs.get('large')).toBeUndefined();
    expect(outputs.get('null')).toEqual({ kind: 'completed', output: null });
  });
});
