import { msToTs } from '@temporalio/common/lib/time.js';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { buildApp } from '../../api/app.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureSearchAttributes } from '../../workers/search-attributes.js';
import { uniqueSuffix, waitFor } from '../support/stack.js';

/** A real cluster's namespace starts without our search attributes; the orchestrator adds them once. */
describe('ensureSearchAttributes', () => {
  const namespace = `gpuflow-sa-${uniqueSuffix()}`;
  let connection: NativeConnection;
  beforeAll(async () => {
    connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
  });
  afterAll(async () => connection?.close());

  it('registers JobType and JobStatus as Keyword on a namespace that lacks them, and is idempotent', async () => {
    const client = new Client({
      connection: await Connection.connect({ address: inject('temporalAddress') }),
      namespace,
    });
    const app = await buildApp({ client, namespace });
    const submit = () =>
      app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: 'echo', input: 1, dedup: false } });
    try {
      // Before: submitting says what is missing and how to fix it, instead of a bare 500.
      const before = await waitFor(
        submit,
        (res) => res.statusCode === 503 && res.json<{ code: string }>().code !== 'GPUFLOW_ERR_TEMPORAL_UNAVAILABLE',
      );
      expect(before.json()).toMatchObject({
        code: 'GPUFLOW_ERR_TEMPORAL_NOT_SET_UP',
        message: expect.stringContaining('gpuflow orchestrator') as unknown,
      });
      await registerAndCheck();
      expect((await waitFor(submit, (res) => res.statusCode !== 503)).statusCode).toBe(201);
    } finally {
      await app.close();
      await client.connection.close();
    }
  });

  async function registerAndCheck() {
    // A new namespace reaches every server component after a short cache refresh.
    const added = await waitFor(
      () => ensureSearchAttributes(connection, namespace).catch(() => null),
      (result) => result !== null,
    );
    expect(added!.sort()).toEqual(['JobReplaces', 'JobStatus', 'JobType', 'Tenant']);
    expect(await ensureSearchAttributes(connection, namespace)).toEqual([]);
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    expect(Object.keys(listed.customAttributes ?? {})).toEqual(
      expect.arrayContaining(['JobType', 'JobStatus', 'JobReplaces', 'Tenant']),
    );
  }
});
