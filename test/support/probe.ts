import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';

/** One scenario's line of the probe's table. */
export interface ProbeRow {
  scenario: string;
  /** Jobs submitted (distinct jobs: a duplicate storm's copies count once). */
  submitted: number;
  completed: number;
  failed: number;
  /** Neither completed nor failed by the end of the scenario's wait. */
  lost: number;
  /** Jobs whose handler finished more than once (an interrupted run that ran again to its end counts once). */
  ranTwice: number;
}

/**
 * A job type whose handler records every start and every finish in a file per job, for in-process and
 * `gpuflow worker` processes alike (a module file). ran-twice is read from those files, not from Temporal.
 */
export function countedJobModule(dir: string, type: string): { modulePath: string; runsDir: string } {
  const runsDir = mkdtempSync(join(dir, 'runs-'));
  // Outside the project: packages are imported by path (the module's directory has no node_modules).
  const modulePath = join(dir, `${type}.mts`);
  writeFileSync(
    modulePath,
    `import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from ${JSON.stringify(join(PROJECT_ROOT, 'node_modules/zod/index.js'))};
import { defineJob } from ${JSON.stringify(join(PROJECT_ROOT, 'sdk/index.ts'))};
export default defineJob({
  type: ${JSON.stringify(type)},
  input: z.object({ n: z.number(), ms: z.number() }),
  async handler(input, ctx) {
    const file = ${JSON.stringify(runsDir)} + '/' + ctx.jobId;
    appendFileSync(file, 'start ' + ctx.attempt + '\\n');
    await sleep(input.ms, undefined, { signal: ctx.signal });
    appendFileSync(file, 'finish ' + ctx.attempt + '\\n');
    return { n: input.n };
  },
});
`,
  );
  return { modulePath, runsDir };
}

/** How many times each job's handler finished, by job id. */
export function finishedRuns(runsDir: string): Map<string, number> {
  const runs = new Map<string, number>();
  if (!existsSync(runsDir)) return runs;
  for (const jobId of readdirSync(runsDir)) {
    const lines = readFileSync(join(runsDir, jobId), 'utf8').split('\n');
    runs.set(jobId, lines.filter((line) => line.startsWith('finish')).length);
  }
  return runs;
}

export function probeRow(
  scenario: string,
  statuses: ReadonlyMap<string, string>,
  runsDir: string,
  submitted = statuses.size,
): ProbeRow {
  const values = [...statuses.values()];
  const completed = values.filter((status) => status === 'COMPLETED').length;
  const failed = values.filter((status) => status === 'FAILED' || status === 'TIMED_OUT').length;
  const ranTwice = [...finishedRuns(runsDir).values()].filter((count) => count > 1).length;
  return { scenario, submitted, completed, failed, lost: submitted - completed - failed, ranTwice };
}

export function formatProbeTable(rows: readonly ProbeRow[]): string {
  const header = ['scenario', 'submitted', 'completed', 'failed', 'lost', 'ran-twice'];
  const lines = rows.map((row) => [
    row.scenario,
    ...[row.submitted, row.completed, row.failed, row.lost, row.ranTwice].map(String),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [format(header), ...lines.map(format)].join('\n');
}

/** Appends the table to a file when asked (the full-size command prints it from there). */
export function reportProbe(rows: readonly ProbeRow[], file: string | undefined): string {
  const table = formatProbeTable(rows);
  if (file) appendFileSync(file, `${table}\n`);
  return table;
}
