import { msToTs } from '@temporalio/common/lib/time.js';
import { NativeConnection } from '@temporalio/worker';
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
    // A new namespace reaches every server component after a short cache refresh.
    const added = await waitFor(
      () => ensureSearchAttributes(connection, namespace).catch(() => null),
      (result) => result !== null,
    );
    expect(added!.sort()).toEqual(['JobStatus', 'JobType']);
    expect(await ensureSearchAttributes(connection, namespace)).toEqual([]);
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    expect(Object.keys(listed.customAttributes ?? {})).toEqual(expect.arrayContaining(['JobType', 'JobStatus']));
  });
});
