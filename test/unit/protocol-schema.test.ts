import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_SCHEMA_DIR, protocolSchemaFiles } from '../../scripts/protocol-schema.js';

const REGENERATE = 'run `npm run protocol:schema` and commit protocol/schema/';

/** The committed JSON Schema is what other languages' workers read: it must say what the zod sources say. */
describe('protocol/schema/', () => {
  const generated = protocolSchemaFiles();
  const committed = readdirSync(PROTOCOL_SCHEMA_DIR).filter((name) => name.endsWith('.json'));

  it('holds exactly the files the zod sources produce', () => {
    expect([...committed].sort(), REGENERATE).toEqual([...generated.keys()].sort());
  });

  it.each([...generated.keys()])('%s matches the zod sources', (name) => {
    const onDisk = committed.includes(name) ? readFileSync(join(PROTOCOL_SCHEMA_DIR, name), 'utf8') : null;
    expect(onDisk, `protocol/schema/${name} drifted from the zod sources: ${REGENERATE}`).toBe(generated.get(name));
  });

  it('describes the heartbeat a worker sends, so a validator in another language can check it', () => {
    const schema = JSON.parse(generated.get('heartbeat-details.json')!) as { required: string[] };
    expect(schema.required).toEqual(['progress', 'log']);
    const constants = JSON.parse(generated.get('constants.json')!) as { activity: string; taskQueues: object };
    expect(constants).toMatchObject({
      activity: 'executeJob',
      taskQueues: { jobPrefix: 'jobs.', control: 'gpuflow-control' },
    });
  });
});
