import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { JobTypeSchema } from '../contracts/job.js';
import { PROJECT_ROOT } from '../scripts/temporal-cli.js';
import { CliError } from './api-client.js';
import { EXIT } from './exit-codes.js';
import { scaffoldFiles } from './init-templates.js';

interface OwnPackage {
  version: string;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

export interface InitOptions {
  /** The gpuflow dependency: a version, a tarball or folder path, or a git URL. @defaultValue this gpuflow's folder */
  gpuflow?: string;
  /** The example job's type. @defaultValue the directory's name, made a valid job type */
  type?: string;
}

/**
 * `gpuflow init <dir>`: writes a job module project into `dir` (created if missing, refused if not empty): a
 * package.json depending on gpuflow and zod, a job, its unit test (through `gpuflow/testing`) and a README.
 * @returns the paths written, relative to `dir`.
 */
export function initProject(dir: string, options: InitOptions = {}): string[] {
  const target = resolve(dir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new CliError(`${dir} exists and is not a directory`, EXIT.usage);
    const present = readdirSync(target);
    if (present.length > 0) {
      throw new CliError(
        `${dir} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', ...' : ''}): ` +
          'gpuflow init writes a new project only into an empty or missing directory',
        EXIT.usage,
      );
    }
  }
  const type = options.type ?? typeFromName(basename(target));
  const checked = JobTypeSchema.safeParse(type);
  if (!checked.success) throw new CliError(`--type ${type}: expected ^[a-z][a-z0-9-]{0,62}$`, EXIT.usage);
  const own = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as OwnPackage;
  const files = scaffoldFiles({
    name: npmName(basename(target)),
    type,
    gpuflowSpec: dependencySpec(options.gpuflow ?? PROJECT_ROOT, target),
    versions: {
      zod: own.dependencies.zod!,
      tsx: own.dependencies.tsx!,
      typescript: own.devDependencies.typescript!,
      typesNode: own.devDependencies['@types/node']!,
    },
    node: own.engines.node,
  });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(target, path)), { recursive: true });
    writeFileSync(join(target, path), text, { flag: 'wx' });
  }
  return Object.keys(files);
}

/** Runs `gpuflow init` and says what to do next. */
export function initCommand(dir: string, options: InitOptions): number {
  const written = initProject(dir, options);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`created ${dir}: ${written.join(', ')}`);
  say(`next:\n  cd ${dir}\n  npm install\n  npm test\n  npx gpuflow dev ${written.find((p) => p.startsWith('jobs/'))}`);
  return EXIT.ok;
}

/**
 * A path that exists (a tarball from `npm pack`, a gpuflow folder) becomes `file:` relative to the new project, so
 * the project can move with it; anything else (a version, a git URL) is written as given.
 */
function dependencySpec(spec: string, target: string): string {
  if (!existsSync(resolve(spec))) return spec;
  const path = relative(target, resolve(spec)).split('\\').join('/');
  return `file:${path.startsWith('.') ? path : `./${path}`}`;
}

function typeFromName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 63);
  return cleaned || 'my-job';
}

function npmName(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[._-]+/, '') || 'my-gpu-jobs'
  );
}
