import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT, isExecutable } from './temporal-cli.js';

/**
 * The tools of the cluster test (`npm run test:cluster`): a Temporal server and its SQL schema tool built from
 * the Go module `go.temporal.io/server` at a pinned version, cached under `.tools/temporal-server-<version>/`.
 * The module needs a newer Go than Debian's, so the go command fetches the pinned toolchain from the Go proxy.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
export const GO_TOOLCHAIN = 'go1.27.3';
const DIR = join(PROJECT_ROOT, '.tools', `temporal-server-${TEMPORAL_SERVER_VERSION}`);
export const TEMPORAL_SERVER_BIN = join(DIR, 'temporal-server');
export const TEMPORAL_SQL_TOOL_BIN = join(DIR, 'temporal-sql-tool');
/** The server's own schema files (postgresql/v12/temporal/versioned ...), copied out of the module cache. */
export const TEMPORAL_SCHEMA_DIR = join(DIR, 'schema');

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, {
    cwd,
    env: { ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN, GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(
      `could not build the Temporal server: ${command} ${args.join(' ')} exited with ` +
        `${result.status ?? result.signal}. It needs the go command and the Go module proxy.`,
    );
  }
  return result.stdout;
}

/** Builds (if not cached) and returns the server and schema tool binaries and the schema folder. */
export function resolveClusterTools(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): {
  server: string;
  sqlTool: string;
  schemaDir: string;
} {
  const tools = { server: TEMPORAL_SERVER_BIN, sqlTool: TEMPORAL_SQL_TOOL_BIN, schemaDir: TEMPORAL_SCHEMA_DIR };
  if (isExecutable(TEMPORAL_SERVER_BIN) && isExecutable(TEMPORAL_SQL_TOOL_BIN) && existsSync(TEMPORAL_SCHEMA_DIR))
    return tools;
  const build = join(DIR, 'build');
  mkdirSync(build, { recursive: true });
  writeFileSync(join(build, 'go.mod'), 'module gpuflow.local/temporal-build\n\ngo 1.26\n');
  writeFileSync(
    join(build, 'tools.go'),
    '//go:build tools\n\npackage tools\n\nimport (\n\t_ "go.temporal.io/server/cmd/server"\n' +
      '\t_ "go.temporal.io/server/cmd/tools/sql"\n)\n',
  );
  log(`building Temporal server ${TEMPORAL_SERVER_VERSION} from source into ${DIR} (several minutes) ...`);
  run('go', ['get', `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`], build);
  run('go', ['build', '-o', TEMPORAL_SQL_TOOL_BIN, 'go.temporal.io/server/cmd/tools/sql'], build);
  run('go', ['build', '-o', TEMPORAL_SERVER_BIN, 'go.temporal.io/server/cmd/server'], build);
  const moduleDir = run('go', ['list', '-m', '-f', '{{.Dir}}', 'go.temporal.io/server'], build).trim();
  run('cp', ['-r', join(moduleDir, 'schema'), TEMPORAL_SCHEMA_DIR], build);
  run('chmod', ['-R', 'u+w', TEMPORAL_SCHEMA_DIR], build);
  return tools;
}

// `tsx scripts/cluster-tools.ts` builds them (if needed) and prints the server binary.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(resolveClusterTools())}\n`);
}
