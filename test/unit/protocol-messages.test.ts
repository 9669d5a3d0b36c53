import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_SCHEMA_DIR } from '../../scripts/protocol-schema.js';
import { HeartbeatDetailsSchema } from '../../protocol/heartbeat.js';
import { BlobRefSchema } from '../../protocol/blobs.js';
import { ExecuteJobResultSchema } from '../../protocol/activity.js';

const HISTORIES_DIR = fileURLToPath(new URL('../replay/histories/', import.meta.url));
// ajv-formats is CommonJS: ESM sees its module.exports, which carries the plugin as `default`.
const addFormats = addFormatsModule.default;

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
for (const name of readdirSync(PROTOCOL_SCHEMA_DIR).filter((file) => file !== 'constants.json')) {
  ajv.addSchema(JSON.parse(readFileSync(join(PROTOCOL_SCHEMA_DIR, name), 'utf8')) as object, name);
}
const schema = (name: string): ValidateFunction => ajv.getSchema(name)!;

interface Payloads {
  payloads?: { data?: string }[];
}
type Event = Record<string, unknown>;

/** The value at `path` inside a decoded event, or undefined. */
const at = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>(
    (node, key) => (typeof node === 'object' && node !== null ? (node as Event)[key] : undefined),
    value,
  );

/** The first payload's JSON value (the default data converter: `json/plain`, base64 in the recorded file). */
const firstValue = (payloads: Payloads | undefined): unknown => {
  const data = payloads?.payloads?.[0]?.data;
  return data === undefined ? undefined : JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
};

/** Every protocol message a real worker and workflow exchanged in the recorded histories, with its schema. */
function recordedMessages(): { where: string; schema: string; value: unknown }[] {
  const messages: { where: string; schema: string; value: unknown }[] = [];
  for (const file of readdirSync(HISTORIES_DIR).filter((name) => name.endsWith('.json'))) {
    const { history } = JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')) as { history: { events: Event[] } };
    for (const event of history.events) {
      const where = `${file} event ${JSON.stringify(event.eventId)}`;
      const add = (name: string, payloads: unknown): void => {
        const value = firstValue(payloads as Payloads);
        if (value !== undefined) messages.push({ where, schema: name, value });
      };
      const attributes = Object.entries(event).find(([key]) => key.endsWith('EventAttributes'))?.[1];
      switch (event.eventType) {
        case 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED':
          add('execute-job-input.json', at(attributes, 'input'));
          break;
        case 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED':
          add('execute-job-result.json', at(attributes, 'result'));
          break;
        case 'EVENT_TYPE_ACTIVITY_TASK_FAILED':
          add('attempt-failure-details.json', at(attributes, 'failure', 'applicationFailureInfo', 'details'));
          break;
        case 'EVENT_TYPE_ACTIVITY_TASK_CANCELED':
          add('attempt-failure-details.json', at(attributes, 'details'));
          break;
        case 'EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT':
          add('heartbeat-details.json', at(attributes, 'failure', 'timeoutFailureInfo', 'lastHeartbeatDetails'));
          break;
        case 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED':
          add('job-failure-details.json', at(attributes, 'failure', 'applicationFailureInfo', 'details'));
          break;
        case 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED': {
          const signal = String(at(attributes, 'signalName')).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
          add(`signal-${signal}.json`, at(attributes, 'input'));
          break;
        }
      }
    }
  }
  return messages;
}

/** The committed JSON Schema is what a Python or Go worker validates against: it must accept what ours sends. */
describe('protocol/schema/ against real traffic', () => {
  const messages = recordedMessages();

  it('finds every kind of message in the recorded histories', () => {
    expect(new Set(messages.map((message) => message.schema))).toEqual(
      new Set([
        'execute-job-input.json',
        'execute-job-result.json',
        'attempt-failure-details.json',
        'heartbeat-details.json',
        'job-failure-details.json',
        'signal-attempt-started.json',
        'signal-attempt-failed.json',
        'signal-stream-chunks.json',
        'signal-job-types-seen.json',
      ]),
    );
  });

  it('accepts every message the TypeScript worker and workflow really sent', () => {
    const rejected = messages.flatMap(({ where, schema: name, value }) => {
      const validate = schema(name);
      return validate(value) ? [] : [`${where} (${name}): ${ajv.errorsText(validate.errors)}`];
    });
    expect(rejected).toEqual([]);
  });

  it('agrees with the zod sources on malformed values a hand-written worker might send', () => {
    const cases: [string, { safeParse(value: unknown): { success: boolean } }, unknown][] = [
      ['heartbeat-details.json', HeartbeatDetailsSchema, { progress: { percent: 40 }, log: [] }],
      ['heartbeat-details.json', HeartbeatDetailsSchema, { progress: { percent: 140, message: null }, log: [] }],
      ['heartbeat-details.json', HeartbeatDetailsSchema, { progress: null }],
      ['heartbeat-details.json', HeartbeatDetailsSchema, { progress: null, log: [], artifacts: [{ name: '../x' }] }],
      ['heartbeat-details.json', HeartbeatDetailsSchema, { progress: null, log: [], checkpoint: { step: 3 } }],
      ['blob-ref.json', BlobRefSchema, { $gpuflowBlob: { key: 'inputs/a.json', size: 1, sha256: 'A'.repeat(64) } }],
      ['blob-ref.json', BlobRefSchema, { $gpuflowBlob: { key: 'inputs/a.json', size: 1, sha256: 'a'.repeat(64) } }],
      ['blob-ref.json', BlobRefSchema, { $gpuflowBlob: { key: 'k', size: 1, sha256: 'a'.repeat(64), x: 1 } }],
      ['execute-job-result.json', ExecuteJobResultSchema, { output: 1 }],
      ['execute-job-result.json', ExecuteJobResultSchema, { output: 1, artifacts: [], handlerTimeMs: -1 }],
    ];
    for (const [name, zod, value] of cases) {
      expect(schema(name)(value), `${name}: ${JSON.stringify(value)}`).toBe(zod.safeParse(value).success);
    }
  });
});
