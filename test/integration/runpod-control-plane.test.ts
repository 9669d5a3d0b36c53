import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../sdk/define-job.js';
import { startStack, uniqueSuffix, type TestStack } from '../support/stack.js';

const KEY = 'control-plane-key-0123456789';

/**
 * The memvid export control plane (seed 003) moved from RunPod to gpuflow by changing its RunPod API base: it stages
 * the export payload on a shared volume, submits a compact pointer job to `/run`, polls `/status` and maps the
 * statuses to its own events, then serves the artifact the worker wrote.
 */
describe('a RunPod control plane (payload_ref, output_prefix) on gpuflow', () => {
  const suffix = uniqueSuffix();
  const staging = mkdtempSync(join(tmpdir(), 'gpuflow-staging-'));
  const exportJob = defineJob({
    type: `memvid-export-${suffix}`,
    input: z.looseObject({ job_id: z.string(), payload_ref: z.string(), output_prefix: z.string() }),
    async handler(input, ctx) {
      const payload = JSON.parse(await readFile(fileURLToPath(input.payload_ref), 'utf8')) as { frames: string[] };
      ctx.progress(10, 'payload read');
      await sleep(1500, undefined, { signal: ctx.signal });
      const mv2 = `MV2\n${payload.frames.join('\n')}\n`;
      const outputDir = fileURLToPath(input.output_prefix);
      await mkdir(outputDir, { recursive: true });
      const artifactPath = join(outputDir, `${input.job_id}.mv2`);
      await writeFile(artifactPath, mv2);
      await writeFile(join(outputDir, `${input.job_id}.json`), JSON.stringify({ frames: payload.frames.length }));
      const artifact = await ctx.artifact('export.mv2', mv2, 'application/octet-stream');
      return { artifactPath, artifactRef: pathToFileURL(artifactPath).href, frames: payload.frames.length, artifact };
    },
  });
  let stack: TestStack;
  let api: string;

  beforeAll(async () => {
    stack = await startStack({ apiKeys: [{ key: KEY, role: 'submit' }] });
    api = await stack.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(staging, { recursive: true, force: true });
  });

  it('stages, runs, polls IN_QUEUE → IN_PROGRESS → COMPLETED, and downloads the artifact', async () => {
    // RUNPOD_API_BASE is the one setting that changed.
    const runpodBase = `${api}/runpod/v2/${exportJob.type}`;
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    const exportId = `exp-${suffix}`;
    mkdirSync(join(staging, 'payloads'), { recursive: true });
    const payloadPath = join(staging, 'payloads', `${exportId}.json`);
    const frames = ['frame one', 'frame two', 'frame three'];
    writeFileSync(payloadPath, JSON.stringify({ frames }));
    const submitted = await fetch(`${runpodBase}/run`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        input: {
          job_id: exportId,
          payload_ref: pathToFileURL(payloadPath).href,
          output_prefix: pathToFileURL(join(staging, 'outputs', exportId)).href,
          embedding_mode: 'external_api',
          embedding_provider: 'voyage',
        },
        policy: { executionTimeout: 600_000, ttl: 86_400_000 },
      }),
    });
    expect(submitted.status).toBe(200);
    const { id } = (await submitted.json()) as { id: string };

    const seen: string[] = [];
    let last: Record<string, unknown> = {};
    const poll = async () => {
      const response = await fetch(`${runpodBase}/status/${id}`, { headers });
      expect(response.status).toBe(200);
      last = (await response.json()) as Record<string, unknown>;
      if (seen.at(-1) !== last.status) seen.push(String(last.status));
    };
    await poll();
    // The GPU host comes up after the job was queued.
    await stack.startJobWorker({ jobs: [exportJob] });
    const deadline = Date.now() + 60_000;
    while (!['COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED'].includes(String(last.status)) && Date.now() < deadline) {
      await sleep(100);
      await poll();
    }
    expect(seen).toEqual(['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED']);
    const output = last.output as { artifactPath: string; artifactRef: string; frames: number };
    expect(output).toMatchObject({ frames: 3, artifactRef: pathToFileURL(output.artifactPath).href });
    const expected = `MV2\n${frames.join('\n')}\n`;
    // The control plane serves the file from the shared volume, or downloads it from gpuflow without one.
    expect(readFileSync(fileURLToPath(output.artifactRef), 'utf8')).toBe(expected);
    const download = await fetch(`${api}/v1/jobs/${id}/artifacts/export.mv2`, { headers });
    expect(download.status).toBe(200);
    expect(await download.text()).toBe(expected);
  });
});
