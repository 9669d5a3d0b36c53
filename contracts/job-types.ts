import { jobTypesSeenSignal, type JobInputSchemas } from '../protocol/signal-definitions.js';
import { JOB_TYPE_CATALOG_DETAILS, JOB_TYPE_CATALOG_SUMMARY } from './job-summaries.js';

/** Registered name of the job type catalog workflow (never renamed: it is the workflow type). */
export const JOB_TYPE_CATALOG_WORKFLOW = 'jobTypeCatalog';

/** The catalog holds at most this many types, which bounds its memo. */
export const JOB_TYPE_CATALOG_MAX_TYPES = 1000;

/** The input schemas the catalog keeps take at most this many characters of JSON in all (its memo is read on submit). */
export const JOB_TYPE_CATALOG_MAX_SCHEMA_CHARS = 512 * 1024;

/** Argument of the `jobTypeCatalog` workflow; continue-as-new carries the types into the next run. */
export interface JobTypeCatalogInput {
  types: string[];
  /** The input schemas published so far, by type (continue-as-new carries them). */
  inputSchemas?: JobInputSchemas;
  /**
   * History length at which a run continues as new (Temporal may suggest it earlier).
   * @defaultValue 2000
   */
  maxHistoryLength?: number;
}

/** Memo of the catalog workflow: the known job types, sorted. The API reads it with one `describe()`. */
export interface JobTypeCatalogMemo {
  types: string[];
  /** Each type's input JSON Schema, as the latest worker to announce it published it (`jobTypesSeen`). */
  inputSchemas?: JobInputSchemas;
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
export function jobTypesSeenSignalWithStart(
  controlTaskQueue: string,
  types: readonly string[],
  inputSchemas?: JobInputSchemas,
) {
  return {
    workflowId: jobTypeCatalogId(controlTaskQueue),
    taskQueue: controlTaskQueue,
    args: [{ types: [] }] as [JobTypeCatalogInput],
    signal: jobTypesSeenSignal,
    signalArgs: (inputSchemas ? [[...types], inputSchemas] : [[...types]]) as [string[], JobInputSchemas?],
    // The Temporal UI lists it beside the jobs: say what it is (set when this call starts it).
    staticSummary: JOB_TYPE_CATALOG_SUMMARY,
    staticDetails: JOB_TYPE_CATALOG_DETAILS,
  };
}
