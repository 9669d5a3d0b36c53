import { jobTypesSeenSignal } from '../protocol/signals.js';

/** Registered name of the job type catalog workflow (never renamed: it is the workflow type). */
export const JOB_TYPE_CATALOG_WORKFLOW = 'jobTypeCatalog';

/** The catalog holds at most this many types, which bounds its memo. */
export const JOB_TYPE_CATALOG_MAX_TYPES = 1000;

/** Argument of the `jobTypeCatalog` workflow; continue-as-new carries the types into the next run. */
export interface JobTypeCatalogInput {
  types: string[];
  /**
   * History length at which a run continues as new (Temporal may suggest it earlier).
   * @defaultValue 2000
   */
  maxHistoryLength?: number;
}

/** Memo of the catalog workflow: the known job types, sorted. The API reads it with one `describe()`. */
export interface JobTypeCatalogMemo {
  types: string[];
}

/**
 * The catalog's workflow id, one per control task queue (so stacks with a control queue of their own stay apart).
 * It is the one workflow besides the jobs that the Temporal UI shows.
 */
export function jobTypeCatalogId(controlTaskQueue: string): string {
  return `${controlTaskQueue}.job-types`;
}

/**
 * Options for `client.workflow.signalWithStart(JOB_TYPE_CATALOG_WORKFLOW, ...)`: records `types`, starting the
 * catalog if it is not running. The orchestrator of `controlTaskQueue` runs it.
 */
export function jobTypesSeenSignalWithStart(controlTaskQueue: string, types: readonly string[]) {
  return {
    workflowId: jobTypeCatalogId(controlTaskQueue),
    taskQueue: controlTaskQueue,
    args: [{ types: [] }] as [JobTypeCatalogInput],
    signal: jobTypesSeenSignal,
    signalArgs: [[...types]] as [string[]],
  };
}
