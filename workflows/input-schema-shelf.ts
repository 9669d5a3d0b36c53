import { JOB_TYPE_CATALOG_MAX_SCHEMA_CHARS } from '../contracts/job-types.js';
import { MAX_INPUT_SCHEMA_CHARS, type JobInputSchemas } from '../protocol/signal-definitions.js';

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The input schemas of the job type catalog: the latest one published for each type, each and all bounded in size
 * (the memo holding them is read by every API on its refresh). Deterministic: plain data, no I/O.
 */
export class InputSchemaShelf {
  private readonly byType = new Map<string, { schema: Schema; json: string }>();
  private chars = 0;

  constructor(initial: JobInputSchemas | undefined) {
    if (initial) this.put(initial, () => true);
  }

  /** Keeps what `published` (a signal's unchecked argument) holds for types `known`; whether anything changed. */
  put(published: unknown, known: (type: string) => boolean): boolean {
    if (!isSchema(published)) return false;
    let changed = false;
    for (const [type, schema] of Object.entries(published)) {
      if (!known(type) || !isSchema(schema)) continue;
      const json = JSON.stringify(schema);
      const before = this.byType.get(type);
      if (json.length > MAX_INPUT_SCHEMA_CHARS || before?.json === json) continue;
      const chars = this.chars - (before?.json.length ?? 0) + json.length;
      if (chars > JOB_TYPE_CATALOG_MAX_SCHEMA_CHARS) continue;
      this.byType.set(type, { schema, json });
      this.chars = chars;
      changed = true;
    }
    return changed;
  }

  /** The schemas by type in type order, or undefined when there are none. */
  sorted(): JobInputSchemas | undefined {
    if (this.byType.size === 0) return undefined;
    const types = [...this.byType.keys()].sort();
    return Object.fromEntries(types.map((type) => [type, this.byType.get(type)!.schema]));
  }
}
