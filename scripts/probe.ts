import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from './temporal-cli.js';

/**
 * The durability probe at full size: `npm run probe -- --jobs 300` runs test/integration/probe.test.ts (every
 * scenario, a fault each) with that many jobs per scenario against real Temporal dev servers, and prints the
 * table of submitted, completed, failed, lost and ran-twice. Exits non-zero unless every job completed once.
 */
const { values } = parseArgs({ options: { jobs: { type: 'string', default: '300' } } });
const jobs = Number(values.jobs);
if (!Number.isInteger(jobs) || jobs < 1) {
  console.error(`--jobs must be a positive integer, not ${values.jobs}`);
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'gpuflow-probe-report-'));
const report = join(dir, 'table.txt');
const run = spawnSync(
  process.execPath,
  [join(PROJECT_ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'test/integration/probe.test.ts'],
  {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
    env: { ...process.env, GPUFLOW_PROBE_JOBS: String(jobs), GPUFLOW_PROBE_REPORT: report },
  },
);
let table: string;
try {
  table = readFileSync(report, 'utf8');
} catch {
  table = '(no table: the probe did not get to its end)\n';
}
rmSync(dir, { recursive: true, force: true });
console.log(`\ndurability probe, ${jobs} jobs per scenario\n${table}`);
process.exit(run.status ?? 1);
