import type { Env } from '../config/env.js';
import { isTerminal, type JobStatus } from '../contracts/status.js';

/** `gpuflow submit|status|cancel|retry`: a thin client of the HTTP API, printing JSON as the API answers it. */
async function call(env: Env, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(new URL(path, env.GPUFLOW_API_URL), {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(env.GPUFLOW_API_KEY ? { authorization: `Bearer ${env.GPUFLOW_API_KEY}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${response.status} ${String(json.code)}: ${String(json.message)}`);
  return json;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export async function submitCommand(
  env: Env,
  type: string,
  rawInput: string,
  options: { wait?: boolean; dedup: boolean },
) {
  let input: unknown;
  try {
    input = JSON.parse(rawInput);
  } catch {
    throw new Error(`input is not JSON: ${rawInput}`);
  }
  const submitted = await call(env, 'POST', options.wait ? `/v1/jobs?wait=${MAX_WAIT_MS}` : '/v1/jobs', {
    type,
    input,
    dedup: options.dedup,
  });
  let view = submitted;
  // The API holds a request for at most 5 minutes: ask again until the job has ended.
  while (options.wait && !isTerminal(view.status as JobStatus)) {
    view = await call(env, 'GET', `/v1/jobs/${encodeURIComponent(String(view.id))}?wait=${MAX_WAIT_MS}`);
  }
  print({ ...view, deduplicated: submitted.deduplicated });
}

const MAX_WAIT_MS = 300_000;

export async function statusCommand(env: Env, id: string) {
  print(await call(env, 'GET', `/v1/jobs/${encodeURIComponent(id)}`));
}

export async function cancelCommand(env: Env, id: string) {
  print(await call(env, 'POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`));
}

export async function retryCommand(env: Env, id: string) {
  print(await call(env, 'POST', `/v1/jobs/${encodeURIComponent(id)}/retry`));
}

export async function pauseCommand(env: Env, type: string, options: { reason?: string }) {
  const body = options.reason === undefined ? {} : { reason: options.reason };
  print(await call(env, 'POST', `/v1/queues/${encodeURIComponent(type)}/pause`, body));
}

export async function resumeCommand(env: Env, type: string) {
  print(await call(env, 'POST', `/v1/queues/${encodeURIComponent(type)}/resume`, {}));
}
