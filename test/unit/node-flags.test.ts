import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { API_HEAP_GROWING_PERCENT } from '../../config/node-flags.js';

const CHURN = join(import.meta.dirname, '..', 'fixtures', 'heap-churn.ts');

interface Churned {
  liveMb: number;
  peakMb: number;
  ratio: number;
}

async function churn(mode: 'tuned' | 'untuned'): Promise<Churned> {
  const args = ['--expose-gc', '--max-semi-space-size=4', '--import', 'tsx', CHURN, mode];
  const { stdout } = await promisify(execFile)(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(stdout) as Churned;
}

describe("the API's heap (config/node-flags.ts)", () => {
  it('keeps promoted garbage within about 1.5× the live heap once tuned, where V8 alone lets it reach 4×', async () => {
    expect(API_HEAP_GROWING_PERCENT).toBe(50);
    const [tuned, untuned] = await Promise.all([churn('tuned'), churn('untuned')]);
    // Measured: 1.75× tuned (the limit, plus what is allocated while a collection marks), 4.65× untuned.
    expect(tuned.ratio, JSON.stringify(tuned)).toBeLessThan(2.5);
    expect(untuned.ratio, JSON.stringify(untuned)).toBeGreaterThan(tuned.ratio + 1);
  }, 90_000);
});
