import { Client } from '@temporalio/client';
import { z } from 'zod';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { JOB_TYPE_CATALOG_WORKFLOW, jobTypesSeenSignalWithStart } from '../contracts/job-types.js';
import { CONTROL_TASK_QUEUE } from '../protocol/task-queues.js';
import { MAX_INPUT_SCHEMA_CHARS, type JobInputSchemas } from '../protocol/signals.js';

export interface AnnounceJobTypesOptions {
  connection: NativeConnection;
  namespace: string;
  /** @defaultValue 'gpuflow-control' */
  controlTaskQueue?: string;
  types: readonly string[];
  /** Each type's input JSON Schema ({@link inputSchemasOf}): the API checks submissions against it. */
  inputSchemas?: JobInputSchemas;
  identity: string;
  /** Bound of the signal, ms. @defaultValue 10000 */
  timeoutMs?: number;
  warn?: (line: string) => void;
  dataConverter?: DataConverter;
}

/**
 * Tells the job type catalog which types this worker serves, so operator views list a type as soon as a worker
 * for it starts, jobs or not. Best effort in the background: a failure is logged and the worker runs on.
 */
export function announceJobTypes(options: AnnounceJobTypesOptions): void {
  const { dataConverter } = options;
  const client = new Client({ connection: options.connection, namespace: options.namespace, dataConverter });
  const warn = options.warn ?? ((line: string) => console.warn(line));
  client
    .withDeadline(Date.now() + (options.timeoutMs ?? 10_000), () =>
      client.workflow.signalWithStart(
        JOB_TYPE_CATALOG_WORKFLOW,
        jobTypesSeenSignalWithStart(
          options.controlTaskQueue ?? CONTROL_TASK_QUEUE,
          options.types,
          options.inputSchemas,
        ),
      ),
    )
    .catch((err: unknown) =>
      warn(`worker ${options.identity}: could not record its job types in the job type catalog: ${String(err)}`),
    );
}

/**
 * The JSON Schema (draft 2020-12) of what a submitter sends for each job, from its zod input schema: the input side
 * (defaults optional, unknown keys allowed where zod strips them). A schema zod cannot express (a transform, a
 * refinement's logic) is published as far as it goes; one it cannot convert, or one larger than the protocol keeps,
 * is left out, and the type is accepted unchecked by the API as before.
 */
export function inputSchemasOf(jobs: readonly { type: string; input: z.ZodType }[]): JobInputSchemas {
  const schemas: JobInputSchemas = {};
  for (const job of jobs) {
    try {
      const schema = z.toJSONSchema(job.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
      if (JSON.stringify(schema).length <= MAX_INPUT_SCHEMA_CHARS) schemas[job.type] = schema;
    } catch {
      // Not convertible (say, a schema from an incompatible zod copy): the worker still checks the input itself.
    }
  }
  return schemas;
}
