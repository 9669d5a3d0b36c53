import type { Workers } from '../contracts/workers.js';
import type { ApiClient } from './api-client.js';
import { EXIT } from './exit-codes.js';
import { formatDuration, formatTable } from './format.js';

/** `gpuflow workers`: every worker process, one line each (`--json`: the API answer). */
export async function workersCommand(api: ApiClient, options: { json?: boolean }): Promise<number> {
  const answer = await api.call<Workers>('GET', '/v1/workers');
  if (options.json) {
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return EXIT.ok;
  }
  const now = Date.now();
  const rows = answer.workers.map((worker) => [
    worker.identity,
    worker.kind,
    worker.host ?? '',
    worker.types.map((entry) => `${entry.type} ${entry.running}/${entry.capacity ?? '?'}`).join(', '),
    worker.lost ? 'lost' : worker.draining ? 'draining' : 'running',
    `${formatDuration(Math.max(0, now - Date.parse(worker.lastHeartbeatAt)))} ago`,
    worker.version ?? '',
  ]);
  const headers = ['IDENTITY', 'KIND', 'HOST', 'TYPES (RUNNING/CAPACITY)', 'STATE', 'LAST HEARTBEAT', 'VERSION'];
  process.stdout.write(`${formatTable(headers, rows)}\n`);
  process.stdout.write(`(lost: no heartbeat for ${formatDuration(answer.lostAfterMs)}; kept about 5 min after)\n`);
  return EXIT.ok;
}
