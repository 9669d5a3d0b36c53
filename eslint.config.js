// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'node:*',
  'fs',
  'path',
  'os',
  'crypto',
  'child_process',
  'net',
  'http',
  'https',
  'url',
  'util',
  'events',
  'stream',
  'timers',
  'worker_threads',
];

/** Folder import rules of DESIGN.md ("folders are trust zones"), enforced here rather than in review. */
const restrict = (files, patterns, message, typeOnly = []) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: patterns, message },
          ...(typeOnly.length ? [{ group: typeOnly, message, allowTypeImports: true }] : []),
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', 'dist/', 'coverage/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Fastify plugins and route handlers are async by contract, whether or not they await.
      '@typescript-eslint/require-await': 'off',
      // A variable a shutdown closure reads before start-up assigns it is not a constant.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // process.env is read in config/env.ts only (plus scripts and tests, which are not the product).
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read configuration through config/env.ts' },
      ],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['config/env.ts', 'scripts/**', 'test/**', 'bench/**', '*.config.*'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/unbound-method': 'off' },
  },
  restrict(
    ['protocol/**'],
    [
      '../api/*',
      '../activities/*',
      '../workers/*',
      '../workflows/*',
      '../config/*',
      '../cli/*',
      '../storage/*',
      '../contracts/*',
      '../jobs/*',
      '../sdk/*',
      ...NODE_BUILTINS,
    ],
    'protocol/ is the ground floor: pure, shared by every worker implementation, importing no other folder',
  ),
  restrict(
    ['contracts/**'],
    [
      '../api/*',
      '../activities/*',
      '../workers/*',
      '../workflows/*',
      '../config/*',
      '../cli/*',
      '../storage/*',
      '../jobs/*',
      '../sdk/*',
      ...NODE_BUILTINS,
    ],
    'contracts/ is pure: no I/O, no Node built-ins, nothing but protocol/',
  ),
  restrict(
    ['sdk/**'],
    ['../api/*', '../activities/*', '../workers/*', '../workflows/*', '../config/*', '../cli/*', '../jobs/*'],
    'sdk/ is what a handler imports: protocol/, contracts/ and storage/ types only',
  ),
  restrict(
    ['jobs/**'],
    ['../api/*', '../activities/*', '../workers/*', '../cli/*', '../config/*', '../sdk/*'],
    'jobs/ is the read model: protocol/, contracts/ and storage/ (and workflow types) only',
  ),
  restrict(['workers/**'], ['../api/*', '../cli/*'], 'workers/ builds worker processes: never the API or the CLI'),
  restrict(
    ['workflows/**'],
    [
      '../api/*',
      '../workers/*',
      '../config/*',
      '../cli/*',
      '../scripts/*',
      '../storage/*',
      ...NODE_BUILTINS,
      '@temporalio/client',
      '@temporalio/worker',
      '@temporalio/activity',
      'zod',
    ],
    'workflows run in the deterministic sandbox: contracts/ and @temporalio/workflow only (activities by `import type`); no zod (protocol/readers.ts says why)',
    ['../activities/*'],
  ),
  {
    files: ['workflows/**'],
    rules: {
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', disallowTypeAnnotations: false },
      ],
    },
  },
  restrict(
    ['api/**'],
    [
      '../activities/*',
      '../workers/*',
      '../sdk/*',
      '../../activities/*',
      '../../workers/*',
      '../../sdk/*',
      '../../../activities/*',
      '../../../workers/*',
      '../../../sdk/*',
    ],
    'the API never runs job code: no activities/, workers/ or sdk/',
  ),
  restrict(
    ['activities/**'],
    ['../api/*', '../cli/*', '../workers/*', '../../workers/*'],
    'activities never import the API or workers/ (workers/ imports activities/, never the reverse)',
  ),
  restrict(
    ['config/**'],
    [
      '../api/*',
      '../activities/*',
      '../workers/*',
      '../workflows/*',
      '../cli/*',
      '../storage/*',
      '../jobs/*',
      '../sdk/*',
      '../scripts/*',
    ],
    'config/ reads the environment for every process: it imports protocol/ and contracts/ only',
  ),
  restrict(
    ['cli/**'],
    ['../test/*', '../bench/*'],
    'cli/ is the product entry: it may start any part, but never the tests or the benchmarks',
  ),
  restrict(
    ['scripts/**'],
    [
      '../api/*',
      '../activities/*',
      '../workers/*',
      '../workflows/*',
      '../cli/*',
      '../jobs/*',
      '../sdk/*',
      '../test/*',
      '../bench/*',
    ],
    'scripts/ install and start tools (the Temporal CLI, the dev server): protocol/ and contracts/ at most',
  ),
  restrict(
    ['examples/**'],
    [
      '../../api/*',
      '../../activities/*',
      '../../workers/*',
      '../../workflows/*',
      '../../cli/*',
      '../../config/*',
      '../../storage/*',
      '../../jobs/*',
      '../../scripts/*',
    ],
    'examples are job modules as users write them: the handler SDK (sdk/, gpuflow/worker) and protocol/ only',
  ),
  restrict(
    ['bin/**'],
    ['../api/*', '../activities/*', '../workers/*', '../workflows/*', '../config/*'],
    'bin/ only hands over to cli/',
  ),
  restrict(
    ['storage/**'],
    [
      '../api/*',
      '../activities/*',
      '../workers/*',
      '../workflows/*',
      '../config/*',
      '../cli/*',
      '../jobs/*',
      '../sdk/*',
    ],
    'storage/ is a library of the API and the workers: it imports protocol/ and contracts/ only',
  ),
);
