import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import {
  JOB_TYPE_CATALOG_WORKFLOW,
  jobTypeCatalogId,
  jobTypesSeenSignalWithStart,
  type JobTypeCatalogMemo,
} from '../../contracts/job-types.js';

export interface JobTypeCatalogOptions {
  client: Client;
  controlTaskQueue: string;
  /** Bound of one signal to the catalog, ms. @defaultValue 5000 */
  temporalTimeoutMs?: number;
  log: Pick<FastifyBaseLogger, 'warn'>;
}

/**
 * The API's side of the job type catalog workflow: tells it about types on submit, and reads the known types.
 * Types are sent once per process; a failed send is logged and retried on the next submit of that type.
 */
export class JobTypeCatalog {
  private readonly sent = new Set<string>();

  constructor(private readonly options: JobTypeCatalogOptions) {}

  /** Records a submitted job's type in the background: never fails nor slows the submit. */
  noteSubmitted(type: string): void {
    if (this.sent.has(type)) return;
    this.sent.add(type);
    const { client, controlTaskQueue } = this.options;
    const deadline = Date.now() + (this.options.temporalTimeoutMs ?? 5000);
    client
      .withDeadline(deadline, () =>
        client.workflow.signalWithStart(
          JOB_TYPE_CATALOG_WORKFLOW,
          jobTypesSeenSignalWithStart(controlTaskQueue, [type]),
        ),
      )
      .catch((err: unknown) => {
        this.sent.delete(type);
        this.options.log.warn({ err, type }, 'could not record the job type in the job type catalog');
      });
  }

  /**
   * Known job types, sorted: the catalog's memo, plus the types this process has sent (the memo lags until the
   * orchestrator has handled the signal). Call within a deadline.
   */
  async list(): Promise<string[]> {
    const types = new Set(this.sent);
    const memo = (await this.memo()) ?? {};
    for (const type of Array.isArray(memo.types) ? memo.types : []) if (typeof type === 'string') types.add(type);
    return [...types].sort();
  }

  /** The catalog's memo as it is (unchecked), or undefined before it exists. Call within a deadline. */
  async memo(): Promise<Partial<JobTypeCatalogMemo> | undefined> {
    try {
      const description = await this.options.client.workflow
        .getHandle(jobTypeCatalogId(this.options.controlTaskQueue))
        .describe();
      return description.memo ?? {};
    } catch (err) {
      // No job submitted and no worker started yet on this control task queue.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      return undefined;
    }
  }
}
