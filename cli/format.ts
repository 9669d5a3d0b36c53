import type { JobView } from '../contracts/job.js';

/** `850ms`, `3.2s`, `4m05s`, `2h03m`: short enough for a progress line or a table cell. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

/** A plain text table: columns as wide as their widest cell, two spaces apart. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** One line for how a job ended (or where it is), as `submit --wait` and `status` print it. */
export function describeJob(view: JobView, baseUrl: string, note = ''): string {
  const parts = [`${view.id} ${view.status}`];
  if (view.attempt > 0) parts.push(`attempt ${view.attempt}`);
  if (view.executionTimeMs !== null) parts.push(`ran ${formatDuration(view.executionTimeMs)}`);
  if (view.workerId) parts.push(`on ${view.workerId}`);
  let line = parts.join(', ') + note;
  if (view.error)
    line += `\n  error: ${view.error.type}: ${view.error.message}${view.error.retryable ? '' : ' (not retryable)'}`;
  if (view.progress && view.status !== 'COMPLETED') {
    line += `\n  progress: ${Math.round(view.progress.percent)}%${view.progress.message ? ` ${view.progress.message}` : ''}`;
  }
  for (const artifact of view.artifacts)
    line += `\n  artifact: ${artifact.name} (${artifact.size} bytes) ${baseUrl}${artifact.url}`;
  return line;
}
