import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobView } from '../../contracts/job.js';
import { resolvePython } from '../../scripts/python-env.js';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';
import { DirectoryBlobStore } from '../../storage/directory-blob-store.js';
import { encryptionDataConverter, type EncryptionKey } from '../../storage/encryption-codec.js';
import { runProcess, type GpuflowProcess } from '../support/processes.js';
import { NAMESPACE, startStack, uniqueSuffix, waitFor, type TestStack } from '../support/stack.js';

/**
 * Payload encryption across languages: the API and orchestrator (TS codec) and a `gpuflow-worker` process (the
 * Python SDK's codec) share one key ring, and Temporal stores no input, output or progress in plaintext.
 */
describe('payload encryption with a Python worker', () => {
  const suffix = uniqueSuffix();
  const type = `py-secretive-${suffix}`;
  const secrets = {
    input: `input-plaintext-${suffix}`,
    output: `output-plaintext-${suffix}`,
    progress: `progress-plaintext-${suffix}`,
  };
  const current: EncryptionKey = { id: 'k2', key: randomBytes(32) };
  const old: EncryptionKey = { id: 'k1', key: randomBytes(32) };
  const ring = [current, old].map(({ id, key }) => `${id}:${Buffer.from(key).toString('base64')}`).join(',');
  const dataDir = mkdtempSync(join(tmpdir(), 'gpuflow-py-enc-'));
  let stack: TestStack;
  let worker: GpuflowProcess;

  beforeAll(async () => {
    const handlers = join(dataDir, 'handlers.py');
    writeFileSync(
      handlers,
      `import asyncio
import gpuflow

@gpuflow.job("${type}")
async def secretive(input, ctx):
    ctx.progress(50, "${secrets.progress}")
    await asyncio.sleep(2)
    return {"echoed": input["secret"], "made": "${secrets.output}"}
`,
    );
    stack = await startStack({
      blobs: new DirectoryBlobStore(join(dataDir, 'blobs')),
      dataConverter: encryptionDataConverter([current, old]),
    });
    worker = runProcess(
      resolvePython(),
      ['-m', 'gpuflow', 'worker', handlers, '--identity', `py-enc-${suffix}`, '--grace', '5'],
      {
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        GPUFLOW_DATA_DIR: dataDir,
        GPUFLOW_CONTROL_TASK_QUEUE: stack.controlTaskQueue,
        GPUFLOW_ENCRYPTION_KEYS: ring,
        PYTHONPATH: join(PROJECT_ROOT, 'python', 'src'),
        PYTHONUNBUFFERED: '1',
      },
    );
    await worker.waitForLine(/serving /, 90_000);
  }, 120_000);
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exited;
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const historyEvents = async (workflowId: string) => {
    const events: proto.temporal.api.history.v1.IHistoryEvent[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await stack.client.workflowService.getWorkflowExecutionHistory({
        namespace: NAMESPACE,
        execution: { workflowId },
        nextPageToken,
      });
      events.push(...(page.history?.events ?? []));
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return events;
  };

  it('completes with progress and output readable through the API, and none of them in the history', async () => {
    const submitted = await stack.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type, input: { secret: secrets.input }, dedup: false },
    });
    expect(submitted.statusCode).toBe(201);
    const id = submitted.json<JobView>().id;
    const ended = (v: JobView) => ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'].includes(v.status);
    const view = async () => (await stack.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<JobView>();

    // Progress is the pending activity's heartbeat detail, encrypted by the Python worker, decrypted by the API.
    const running = await waitFor(view, (v) => v.progress?.message === secrets.progress || ended(v));
    expect(running.progress).toMatchObject({ percent: 50, message: secrets.progress });
    const done = await waitFor(view, ended);
    expect(done, worker.output.join('\n')).toMatchObject({
      status: 'COMPLETED',
      attempt: 1,
      workerId: `py-enc-${suffix}`,
      output: { echoed: secrets.input, made: secrets.output },
    });

    const events = await historyEvents(id);
    const history = Buffer.from(proto.temporal.api.history.v1.History.encode({ events }).finish());
    for (const secret of Object.values(secrets))
      expect(history.includes(secret), `${secret} in the history`).toBe(false);
    expect(history.includes('binary/encrypted')).toBe(true);
    // The Python worker encrypted the activity's result with the ring's first key.
    const result = events.find((event) => event.activityTaskCompletedEventAttributes)
      ?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
    const metadata = (name: string) => Buffer.from(result?.metadata?.[name] ?? []).toString('utf8');
    expect([metadata('encoding'), metadata('encryption-key-id')]).toEqual(['binary/encrypted', 'k2']);
  }, 60_000);
});
