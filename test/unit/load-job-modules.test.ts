import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defineJob } from '../../sdk/define-job.js';
import { loadJobModules } from '../../workers/load-job-modules.js';
import { z } from 'zod';

const dir = mkdtempSync(join(tmpdir(), 'gpuflow-modules-'));
const sdk = new URL('../../sdk/index.ts', import.meta.url).href;
function module(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `import { defineJob } from '${sdk}';\nimport { z } from 'zod';\n${body}\n`);
  return path;
}

describe('loadJobModules', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('collects default and named job exports, arrays included', async () => {
    const path = module(
      'many.ts',
      `export default [defineJob({ type: 'a', input: z.null(), handler: () => 1 }), defineJob({ type: 'b', input: z.null(), handler: () => 2 })];
export const c = defineJob({ type: 'c', input: z.null(), handler: () => 3 });
export const notAJob = { type: 'd' };`,
    );
    expect((await loadJobModules([path])).map((job) => job.type).sort()).toEqual(['a', 'b', 'c']);
  });

  it('refuses a module without jobs, and one type defined twice', async () => {
    const empty = module('empty.ts', 'export const x = 1;');
    await expect(loadJobModules([empty])).rejects.toThrow(/exports no job/);
    const one = module('one.ts', `export default defineJob({ type: 'same', input: z.null(), handler: () => 1 });`);
    const two = module('two.ts', `export default defineJob({ type: 'same', input: z.null(), handler: () => 2 });`);
    await expect(loadJobModules([one, two])).rejects.toThrow(/job type "same" is defined twice/);
    await expect(loadJobModules([])).rejects.toThrow(/no job modules given/);
  });
});

describe('defineJob', () => {
  it('refuses a bad type, a missing schema or handler at definition time', () => {
    expect(() => defineJob({ type: 'Bad Type', input: z.null(), handler: () => 1 })).toThrow(
      /defineJob: type: must start/,
    );
    expect(() => defineJob({ type: 'ok', input: {} as never, handler: () => 1 })).toThrow(/input must be a zod schema/);
    expect(() => defineJob({ type: 'ok', input: z.null(), handler: undefined as never })).toThrow(
      /handler must be a function/,
    );
  });
});
