/** The files of a project that `gpuflow init` writes, keyed by their path inside it. */
export interface ScaffoldValues {
  /** The project's npm name. */
  name: string;
  /** The example job's type. */
  type: string;
  /** The gpuflow dependency as package.json holds it: a version, `file:<tarball or folder>`, a git URL. */
  gpuflowSpec: string;
  /** Exact versions of the packages the project itself imports or runs, the ones gpuflow is tested with. */
  versions: { zod: string; tsx: string; typescript: string; typesNode: string };
  /** The Node versions gpuflow supports (its `engines.node`). */
  node: string;
}

export function scaffoldFiles(v: ScaffoldValues): Record<string, string> {
  const job = `jobs/${v.type}.ts`;
  return {
    'package.json': `${JSON.stringify(
      {
        name: v.name,
        version: '0.1.0',
        private: true,
        type: 'module',
        engines: { node: v.node },
        scripts: {
          test: 'node --import tsx --test test/*.test.ts',
          typecheck: 'tsc --noEmit',
          'test:job': `gpuflow test ${job}`,
          worker: `gpuflow worker ${job}`,
          dev: `gpuflow dev ${job}`,
        },
        dependencies: { gpuflow: v.gpuflowSpec, zod: v.versions.zod },
        devDependencies: {
          '@types/node': v.versions.typesNode,
          tsx: v.versions.tsx,
          typescript: v.versions.typescript,
        },
      },
      null,
      2,
    )}\n`,
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          types: ['node'],
          strict: true,
          noUncheckedIndexedAccess: true,
          verbatimModuleSyntax: true,
          skipLibCheck: true,
          noEmit: true,
        },
        include: ['jobs', 'test'],
      },
      null,
      2,
    )}\n`,
    '.gitignore': 'node_modules/\n.data/\n',
    [job]: `import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from 'gpuflow/worker';

/** Greets someone, one step at a time: replace the handler with your GPU work. */
export default defineJob({
  type: '${v.type}',
  input: z.object({ name: z.string().min(1), steps: z.number().int().min(1).max(100).default(3) }),
  async handler({ name, steps }, ctx) {
    for (let step = 1; step <= steps; step += 1) {
      // Stop promptly when the job is cancelled, times out or the worker drains.
      await sleep(100, undefined, { signal: ctx.signal });
      ctx.progress(Math.round((step / steps) * 100), \`step \${step} of \${steps}\`);
    }
    ctx.log('greeted', name);
    return { greeting: \`Hello, \${name}!\`, attempt: ctx.attempt };
  },
});
`,
    'jobs/test_input.json': `${JSON.stringify({ input: { name: 'world' } }, null, 2)}\n`,
    [`test/${v.type}.test.ts`]: `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLocal } from 'gpuflow/testing';
import job from '../jobs/${v.type}.js';

test('greets by name and reports each step', async () => {
  const result = await runLocal(job, { name: 'Ada', steps: 2 });
  assert.equal(result.error, undefined);
  assert.deepEqual(result.output, { greeting: 'Hello, Ada!', attempt: 1 });
  assert.deepEqual(
    result.progress.map((p) => p.percent),
    [50, 100],
  );
  assert.deepEqual(result.logs, ['greeted Ada']);
});

test('rejects an input without a name, as a worker would', async () => {
  const result = await runLocal(job, { steps: 2 });
  assert.equal(result.error?.type, 'ValidationError');
  assert.equal(result.error?.retryable, false);
});
`,
    'README.md': `# ${v.name}

A gpuflow job module: \`${job}\` defines the job type \`${v.type}\`.

\`\`\`sh
npm install
npm test                 # the job's unit tests (runLocal from gpuflow/testing, no Temporal needed)
npm run typecheck
npx gpuflow test ${job}   # one job in this process, with jobs/test_input.json as its input
npx gpuflow dev ${job}    # the whole stack here: Temporal dev server, API on :3000, a worker for this job
npx gpuflow submit ${v.type} '{"name":"world"}' --wait   # in another terminal, while dev runs
\`\`\`

On a GPU host, against a running stack: \`TEMPORAL_ADDRESS=temporal.example:7233 npx gpuflow worker ${job}\`.
`,
  };
}
