import type { NativeConnection } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { JobReplacesKey, JobStatusKey, JobTypeKey, TenantKey } from '../protocol/search-attributes.js';

// A CommonJS package: Node's ESM loader only sees its default export.
const KEYWORD = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

/**
 * Registers gpuflow's search attributes on the namespace if they are missing, so that the same code runs against a
 * real Temporal cluster as against the dev server (which registers them at start). Returns what it added.
 * Temporal Cloud manages search attributes outside this API: there the caller logs the failure and goes on.
 */
export async function ensureSearchAttributes(connection: NativeConnection, namespace: string): Promise<string[]> {
  const wanted = [JobTypeKey.name, JobStatusKey.name, JobReplacesKey.name, TenantKey.name];
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = wanted.filter((name) => !(name in (existing.customAttributes ?? {})));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
    });
  }
  return missing;
}
