import { setTimeout as sleep } from 'node:timers/promises';
import type { Env } from '../config/env.js';
import { isTerminal, type JobStatus } from '../contracts/status.js';

/** `gpuflow submit|status|cancel`: a thin client of the HTTP API, printing JSON as the API answers it. */
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
  const submitted = await call(env, 'POST', '/v1/jobs', { type, input, dedup: options.dedup });
  let view = submitted;
  while (options.wait && !isTerminal(view.status as JobStatus)) {
    await sleep(500);
    view = await call(env, 'GET', `/v1/jobs/${encodeURIComponent(String(view.id))}`);
  }
  print({ ...view, deduplicated: submitted.deduplicated });
}

export async function statusCommand(env: Env, id: string) {
  print(await call(env, 'GET', `/v1/jobs/${encodeURIComponent(id)}`));
}

export async function cancelCommand(env: Env, id: string) {
  print(await call(env, 'POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`));
}
