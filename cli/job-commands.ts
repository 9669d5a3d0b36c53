import { setTimeout as sleep } from 'node:timers/promises';
import type { JobList } from '../contracts/admin.js';
import type { JobView, SubmitResponse } from '../contracts/job.js';
import { isTerminal, type JobStatus } from '../contracts/status.js';
import { type ApiClient, CliError, jobPath } from './api-client.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import { describeJob, formatDuration, formatTable } from './format.js';
import { createWaitDisplay } from './wait-display.js';

/** `gpuflow submit|status|cancel|retry|list`. Each returns its exit code. */

/** How long one poll of a waiting `submit --wait` may be held by the API: short, so that progress stays live. */
const POLL_WAIT_MS = 500;

const printJson = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

function parseInput(raw: string, what: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new CliError(`${what} is not JSON: ${raw}`, EXIT.usage);
  }
}

export async function submitCommand(
  api: ApiClient,
  type: string,
  rawInput: string,
  options: { wait?: boolean; dedup: boolean; json?: boolean; policy?: string },
): Promise<number> {
  const startedAt = Date.now();
  const submitted = await api.call<SubmitResponse>('POST', '/v1/jobs', {
    type,
    input: parseInput(rawInput, 'input'),
    dedup: options.dedup,
    ...(options.policy === undefined ? {} : { policy: parseInput(options.policy, 'policy') }),
  });
  if (!options.wait) {
    if (options.json) printJson(submitted);
    else
      process.stdout.write(
        `${describeJob(submitted, api.baseUrl, submitted.deduplicated ? ' (an existing job)' : '')}\n`,
      );
    return EXIT.ok;
  }
  const display = createWaitDisplay(process.stderr, startedAt);
  let view: JobView = submitted;
  try {
    display.update(view);
    while (!isTerminal(view.status)) {
      const askedAt = Date.now();
      const next = await api.call<JobView>('GET', jobPath(view.id, `?wait=${POLL_WAIT_MS}`));
      // An answer that came back at once (an API that holds nothing) must not turn this into a busy poll.
      if (!isTerminal(next.status) && Date.now() - askedAt < 200) await sleep(250);
      view = next;
      display.update(view);
    }
  } finally {
    display.stop();
  }
  if (options.json) printJson({ ...view, deduplicated: submitted.deduplicated });
  else {
    process.stderr.write(`${describeJob(view, api.baseUrl, ` (waited ${formatDuration(Date.now() - startedAt)})`)}\n`);
    if (view.status === 'COMPLETED') printJson(view.output ?? null);
  }
  return exitCodeOf(view.status);
}

export async function statusCommand(api: ApiClient, id: string, options: { json?: boolean }): Promise<number> {
  const view = await api.call<JobView>('GET', jobPath(id));
  if (options.json) printJson(view);
  else {
    process.stdout.write(`${describeJob(view, api.baseUrl)}\n`);
    if (view.status === 'COMPLETED') printJson(view.output ?? null);
  }
  return EXIT.ok;
}

export async function actionCommand(api: ApiClient, id: string, action: 'cancel' | 'retry'): Promise<number> {
  printJson(await api.call('POST', jobPath(id, `/${action}`)));
  return EXIT.ok;
}

export async function listCommand(
  api: ApiClient,
  options: { status?: JobStatus; type?: string; limit?: number; json?: boolean },
): Promise<number> {
  const query = new URLSearchParams();
  if (options.status) query.set('status', options.status);
  if (options.type) query.set('type', options.type);
  if (options.limit) query.set('limit', String(options.limit));
  const list = await api.call<JobList>('GET', `/v1/jobs${query.size ? `?${query.toString()}` : ''}`);
  if (options.json) {
    printJson(list);
    return EXIT.ok;
  }
  if (list.jobs.length === 0) {
    process.stdout.write('no jobs\n');
    return EXIT.ok;
  }
  const now = Date.now();
  const rows = list.jobs.map((job) => [
    job.id,
    job.type,
    job.status,
    String(job.attempt),
    `${formatDuration(now - Date.parse(job.createdAt))} ago`,
    job.executionTimeMs === null ? '' : formatDuration(job.executionTimeMs),
    job.error ? `${job.error.type}: ${job.error.message}`.slice(0, 60) : '',
  ]);
  process.stdout.write(`${formatTable(['ID', 'TYPE', 'STATUS', 'ATTEMPT', 'CREATED', 'RAN', 'ERROR'], rows)}\n`);
  if (list.nextCursor) process.stdout.write(`(more: raise --limit, or filter by --status / --type)\n`);
  return EXIT.ok;
}

export async function pauseCommand(api: ApiClient, type: string, options: { reason?: string }): Promise<number> {
  const body = options.reason === undefined ? {} : { reason: options.reason };
  printJson(await api.call('POST', `/v1/queues/${encodeURIComponent(type)}/pause`, body));
  return EXIT.ok;
}

export async function resumeCommand(api: ApiClient, type: string): Promise<number> {
  printJson(await api.call('POST', `/v1/queues/${encodeURIComponent(type)}/resume`, {}));
  return EXIT.ok;
}
