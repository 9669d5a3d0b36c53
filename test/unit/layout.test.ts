import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';

/**
 * package.json `files` is the one list of the shipped source folders; tsconfig, the Dockerfile and the lint rules
 * are checked against it, so that a new folder cannot be half-added.
 */
const read = (file: string): string => readFileSync(join(PROJECT_ROOT, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as { files: string[] };
const isDir = (path: string): boolean => existsSync(path) && statSync(path).isDirectory();
const FOLDERS = pkg.files.filter((entry) => isDir(join(PROJECT_ROOT, entry)));
/** Top-level folders that are not shipped: the tests and the benchmarks (and tools, state, dependencies). */
const NOT_SHIPPED = ['test', 'bench'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('one list of source folders (package.json files)', () => {
  it('lists every top-level folder with TypeScript in it, tests and benchmarks aside', () => {
    const withTs = readdirSync(PROJECT_ROOT, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules')
      .map((entry) => entry.name)
      .filter((name) => tsFiles(join(PROJECT_ROOT, name)).length > 0);
    expect(withTs.filter((name) => !FOLDERS.includes(name) && !NOT_SHIPPED.includes(name))).toEqual([]);
    expect(FOLDERS).toEqual(expect.arrayContaining(['bin', 'cli', 'config', 'protocol', 'api', 'workers']));
  });

  it('has tsconfig include every folder with TypeScript in it, and nothing that is not listed', () => {
    const include = (JSON.parse(read('tsconfig.json')) as { include: string[] }).include;
    const withTs = FOLDERS.filter((folder) => tsFiles(join(PROJECT_ROOT, folder)).length > 0);
    expect(withTs.filter((folder) => !include.includes(folder))).toEqual([]);
    const extra = include.filter((entry) => !entry.includes('*') && !FOLDERS.includes(entry));
    expect(extra.filter((entry) => !NOT_SHIPPED.includes(entry))).toEqual([]);
  });

  it('has the Dockerfile copy every listed entry, and nothing else but the lock files', () => {
    const dockerfile = read('Dockerfile');
    for (const entry of pkg.files) {
      expect(dockerfile, entry).toContain(
        FOLDERS.includes(entry) ? `COPY ${entry} ./${entry}\n` : `COPY ${entry} ./\n`,
      );
    }
    const copied = [...dockerfile.matchAll(/^COPY (.+) \S+$/gm)].flatMap((match) => match[1]!.split(' '));
    const known = [...pkg.files, 'package.json', 'package-lock.json'];
    expect(copied.filter((source) => !known.includes(source))).toEqual([]);
  });

  it('has an import rule for every listed folder in eslint.config.js', async () => {
    const eslint = new ESLint({ cwd: PROJECT_ROOT });
    const missing: string[] = [];
    for (const folder of FOLDERS) {
      const probe = join(PROJECT_ROOT, folder, folder === 'bin' ? 'probe.js' : 'probe.ts');
      const config = (await eslint.calculateConfigForFile(probe)) as { rules?: Record<string, unknown> };
      const rule = config.rules?.['no-restricted-imports'] as [number | string, ...unknown[]] | undefined;
      if (!rule || (rule[0] !== 2 && rule[0] !== 'error')) missing.push(folder);
    }
    expect(missing).toEqual([]);
  }, 30_000);
});

describe('import direction between activities/ and workers/', () => {
  /** Relative imports of a file, static and dynamic, resolved to project-relative paths. */
  function importsOf(file: string): string[] {
    const source = readFileSync(file, 'utf8');
    const specifiers = [...source.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((match) => match[1]!);
    return specifiers.map((specifier) => relative(PROJECT_ROOT, resolve(dirname(file), specifier)));
  }
  const into = (folder: string, from: string): string[] =>
    tsFiles(join(PROJECT_ROOT, from)).flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith(`${folder}/`))
        .map((target) => `${relative(PROJECT_ROOT, file)} -> ${target}`),
    );

  it('goes from workers/ to activities/ only', () => {
    expect(into('workers', 'activities')).toEqual([]);
    expect(into('activities', 'workers').length).toBeGreaterThan(0);
  });
});
