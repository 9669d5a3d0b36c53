import {
  condition,
  makeContinueAsNewFunc,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import {
  JOB_TYPE_CATALOG_MAX_TYPES,
  type JobTypeCatalogInput,
  type JobTypeCatalogMemo,
} from '../contracts/job-types.js';
import { JOB_TYPE_CATALOG_DETAILS } from '../contracts/job-summaries.js';
import { jobTypesSeenSignal, type JobInputSchemas } from '../protocol/signal-definitions.js';
import { InputSchemaShelf } from './input-schema-shelf.js';

const DEFAULT_MAX_HISTORY_LENGTH = 2000;
const MAX_TYPE_LENGTH = 63;

/** Senders validate types; this only keeps a bad sender from bloating the memo. */
const plausible = (type: unknown): type is string =>
  typeof type === 'string' && type.length > 0 && type.length <= MAX_TYPE_LENGTH;

/**
 * The durable list of job types, one per control task queue: Temporal cannot list task queues, nor group
 * visibility by a Keyword search attribute, so the API learns the types from here. Fed by `jobTypesSeenSignal`
 * (through signal-with-start, so the first sender creates it); keeps the sorted types in its memo, which the API
 * reads with `describe()` whether or not an orchestrator is running. Never completes: each signal adds to the
 * history, so a long run continues as new, carrying the types.
 */
export async function jobTypeCatalog(input: JobTypeCatalogInput): Promise<void> {
  const types = new Set(input.types.filter(plausible));
  const maxHistoryLength = input.maxHistoryLength ?? DEFAULT_MAX_HISTORY_LENGTH;
  // Continue-as-new passes the memo along, but a run started with types publishes them anyway (cheap, once).
  let changed = types.size > 0;
  const schemas = new InputSchemaShelf(input.inputSchemas);
  // The UI's "current details" (a query, answered while an orchestrator runs): a continued run has no static ones.
  setCurrentDetails(JOB_TYPE_CATALOG_DETAILS);

  setHandler(jobTypesSeenSignal, (seen, published) => {
    for (const type of Array.isArray(seen) ? seen : []) {
      if (!plausible(type) || types.has(type) || types.size >= JOB_TYPE_CATALOG_MAX_TYPES) continue;
      types.add(type);
      changed = true;
    }
    // Older senders publish no schemas; a schema is kept only for a type the catalog holds.
    if (schemas.put(published, (type) => types.has(type))) changed = true;
  });
  const memoOf = (sorted: string[]): JobTypeCatalogMemo => {
    const inputSchemas: JobInputSchemas | undefined = schemas.sorted();
    return inputSchemas ? { types: sorted, inputSchemas } : { types: sorted };
  };

  const historyIsLong = (): boolean =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= maxHistoryLength;

  for (;;) {
    await condition(() => changed || historyIsLong());
    const sorted = [...types].sort();
    if (changed) {
      upsertMemo({ ...memoOf(sorted) });
      changed = false;
    }
    if (historyIsLong()) {
      // Signal handlers are synchronous, so every signal delivered so far is in `types` already.
      const memo = memoOf(sorted);
      const inputSchemas = memo.inputSchemas ? { inputSchemas: memo.inputSchemas } : {};
      await makeContinueAsNewFunc<typeof jobTypeCatalog>({ memo: { ...memo } })({
        types: sorted,
        ...inputSchemas,
        maxHistoryLength,
      });
    }
  }
}
