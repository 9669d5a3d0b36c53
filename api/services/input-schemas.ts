import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifyBaseLogger } from 'fastify';
import type { JobTypeCatalogMemo } from '../../contracts/job-types.js';
import { JobInputSchemasSchema } from '../../protocol/signals.js';
import { Errors } from '../errors.js';

export interface InputSchemasOptions {
  /** The job type catalog's memo (one `describe()`), within a deadline. */
  readMemo: () => Promise<Partial<JobTypeCatalogMemo> | undefined>;
  /** Time between two background reads of the published schemas, ms. @defaultValue 5000 */
  refreshMs?: number;
  log: Pick<FastifyBaseLogger, 'warn'>;
}

/** Problems named in one 400, at most: the first ones say enough. */
const MAX_PROBLEMS = 5;

/** Where a schema problem is: `/steps/0` → `input.steps.0`; a missing or unknown property is named too. */
function problemOf(error: ErrorObject): string {
  const parts = ['input', ...error.instancePath.split('/').filter(Boolean)];
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  if (error.keyword === 'required' && params.missingProperty)
    return `${[...parts, params.missingProperty].join('.')}: required`;
  if (error.keyword === 'additionalProperties' && params.additionalProperty) {
    return `${[...parts, params.additionalProperty].join('.')}: not allowed here`;
  }
  return `${parts.join('.')}: ${error.message ?? 'does not fit the schema'}`;
}

/**
 * The input schemas the job workers published (the job type catalog's memo), compiled, so that a submission whose
 * input breaks its type's schema is a 400 naming the field. Read in the background every `refreshMs`: a submit
 * never waits on Temporal for them. A type with no schema published, or one that does not compile, is accepted as
 * it is (its worker still checks the input). A schema published moments ago applies from the next refresh on.
 */
export class InputSchemas {
  private readonly ajv = addFormats.default(new Ajv2020({ strict: false, allErrors: true, validateFormats: true }));
  /** By type: the schema's JSON (to notice a change) and its compiled check. */
  private readonly compiled = new Map<string, { json: string; validate: ValidateFunction | undefined }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly options: InputSchemasOptions) {}

  /** Reads the schemas now and then every `refreshMs` until {@link stop}. */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  /** Stops the refreshes and waits for one in flight: its retries must not outlive the Temporal connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.refreshing;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.refresh().finally(() => this.schedule()), this.options.refreshMs ?? 5000);
    this.timer.unref();
  }

  /** One read of the catalog; concurrent callers share it. A failed read keeps the schemas already known. */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async read(): Promise<void> {
    let memo: Partial<JobTypeCatalogMemo> | undefined;
    try {
      memo = await this.options.readMemo();
    } catch (err) {
      this.options.log.warn({ err }, 'could not read the published job input schemas; keeping the known ones');
      return;
    }
    // Published by workers in any language: a memo that does not fit is ignored, not trusted.
    const parsed = JobInputSchemasSchema.safeParse(memo?.inputSchemas ?? {});
    if (!parsed.success) return;
    for (const [type, schema] of Object.entries(parsed.data)) {
      const json = JSON.stringify(schema);
      if (this.compiled.get(type)?.json === json) continue;
      this.compiled.set(type, { json, validate: this.compile(type, schema) });
    }
  }

  private compile(type: string, schema: Record<string, unknown>): ValidateFunction | undefined {
    try {
      // `$id`s of two types' schemas could clash in one Ajv: compile each without one.
      const copy = { ...schema };
      delete copy.$id;
      return this.ajv.compile(copy);
    } catch (err) {
      this.options.log.warn({ err, type }, 'the published input schema of this job type does not compile; not checked');
      return undefined;
    }
  }

  /** Whether a schema for `type` is known (and compiles). */
  has(type: string): boolean {
    return this.compiled.get(type)?.validate !== undefined;
  }

  /** @throws the 400 `GPUFLOW_ERR_VALIDATION` naming each bad field, when `input` breaks its type's schema. */
  check(type: string, input: unknown): void {
    const validate = this.compiled.get(type)?.validate;
    if (!validate || validate(input)) return;
    const problems = [...new Set((validate.errors ?? []).map(problemOf))].slice(0, MAX_PROBLEMS);
    throw new Errors.Validation(problems.join('; ') || 'input: does not fit the schema of its job type');
  }
}
