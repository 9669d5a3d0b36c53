import { Command, InvalidArgumentError } from 'commander';
import { EnvError, loadEnv, type Env } from '../config/env.js';
import { JobStatusSchema, type JobStatus } from '../contracts/status.js';
import { ApiClient, CliError } from './api-client.js';
import { EXIT } from './exit-codes.js';
import type { submitCommand } from './job-commands.js';
import { stopWhenParentExits } from './parent-watch.js';
import type { JobWorkerProcessOptions } from './processes.js';

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return parsed;
}

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new InvalidArgumentError('expected a number of seconds (0 or more)');
  return parsed;
}

function env(): Env {
  try {
    const loaded = loadEnv();
    if (loaded.GPUFLOW_DEV_CHILD) stopWhenParentExits();
    return loaded;
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`gpuflow: ${err.message}\n`);
      process.exit(EXIT.usage);
    }
    throw err;
  }
}

const program = new Command('gpuflow')
  .description('Self-hostable serverless GPU job queue on Temporal')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(`gpuflow: ${text}`) })
  // A bad command line exits 2, as a bad environment does; help and --version exit 0.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage));

program
  .command('dev')
  .description('run the whole stack here: Temporal dev server, orchestrator, a job worker, the API')
  .argument('[modules...]', 'job modules for the worker (default: the demo jobs in examples/jobs)')
  .option('--watch', 'restart the worker when a job module changes')
  .action(async (modules: string[], options: { watch?: boolean }) =>
    (await import('./dev.js')).runDev(env(), { modules, watch: options.watch ?? false }),
  );

program
  .command('api')
  .description('run the HTTP API')
  .action(async () => (await import('../api/server.js')).runApiServer(env()));

program
  .command('orchestrator')
  .description('run the worker that runs job workflows (task queue gpuflow-control)')
  .action(async () => (await import('./processes.js')).runOrchestrator(env()));

program
  .command('worker')
  .description('run a job worker for the job types that the given modules define')
  .argument('<modules...>', 'job modules (.ts or .js) that export defineJob(...)')
  .option('--capacity <n>', 'jobs of each type run at once', positiveInt, 1)
  .option(
    '--grace <seconds>',
    'on SIGTERM/SIGINT, how long running jobs may finish before they are handed back',
    seconds,
    30,
  )
  .option('--idle-exit <seconds>', 'exit (code 0) after this long with no job running: scale to zero', seconds)
  .option('--identity <id>', 'worker id shown in job views (default <hostname>-<pid>)')
  .option(
    '--progress-freshness <seconds>',
    "how fresh running jobs' progress is (heartbeats at most this often; a job's policy.progressFreshnessMs wins)",
    seconds,
    1,
  )
  .option(
    '--metrics-port <port>',
    "serve Prometheus metrics on this port (the Temporal SDK's on the next one)",
    positiveInt,
  )
  .option(
    '--sdk-metrics-port <port>',
    "the Temporal SDK's Prometheus metrics port (default --metrics-port + 1)",
    positiveInt,
  )
  .option('--metrics-host <host>', 'address the metrics ports listen on', '0.0.0.0')
  .action(async (modules: string[], options: JobWorkerProcessOptions) =>
    (await import('./processes.js')).runJobWorkerProcess(env(), { ...options, modules }),
  );

program
  .command('test')
  .description('run one job in this process, without Temporal, printing progress, log lines, chunks and the output')
  .argument('<modules...>', 'job modules (.ts or .js) that export defineJob(...)')
  .option('--type <type>', 'the job type to run (needed when the modules define several)')
  .option('--input <json>', 'the input as JSON (default: test_input.json beside the module)')
  .action(async (modules: string[], options: { type?: string; input?: string }) => {
    process.exitCode = await (await import('./local-test.js')).runLocalTest(modules, options);
  });

program
  .command('init')
  .description('create a job module project in <dir>: package.json, a job, its test, a README')
  .argument('<dir>', 'an empty or missing directory')
  .option(
    '--gpuflow <spec>',
    "the gpuflow dependency: a version, a tarball or folder path, a git URL (default: this gpuflow's folder)",
  )
  .option('--type <type>', "the example job's type (default: the directory's name)")
  .action(async (dir: string, options: { gpuflow?: string; type?: string }) => {
    process.exitCode = (await import('./init.js')).initCommand(dir, options);
  });

/** Runs a client command: its exit code becomes the process's. */
const client =
  <A extends unknown[]>(run: (api: ApiClient, ...args: A) => Promise<number>) =>
  async (...args: A): Promise<void> => {
    process.exitCode = await run(new ApiClient(env()), ...args);
  };

function jobStatus(value: string): JobStatus {
  const parsed = JobStatusSchema.safeParse(value.toUpperCase());
  if (!parsed.success) throw new InvalidArgumentError(`expected one of ${JobStatusSchema.options.join(', ')}`);
  return parsed.data;
}

program
  .command('submit')
  .description('submit a job through the API; with --wait, show its progress and exit with how it ended')
  .argument('<type>', 'job type')
  .argument('[input]', 'input as JSON', '{}')
  .option('--wait', 'wait until the job ends (a live progress bar on a terminal), exit 0/1/3/4 for how it ended')
  .option('--no-dedup', 'always create a new job')
  .option('--policy <json>', 'the job policy as JSON: {"executionTimeoutMs", "ttlMs", "maxAttempts", "priority"}')
  .option('--json', 'print the job view as JSON (with --wait: the final view)')
  .action(
    client(async (api, type: string, input: string, options: Parameters<typeof submitCommand>[3]) =>
      (await import('./job-commands.js')).submitCommand(api, type, input, options),
    ),
  );

program
  .command('status')
  .description('show a job: status, attempt, error, progress, output')
  .argument('<id>')
  .option('--json', 'print the job view as JSON')
  .action(
    client(async (api, id: string, options: { json?: boolean }) =>
      (await import('./job-commands.js')).statusCommand(api, id, options),
    ),
  );

program
  .command('list')
  .description('list jobs, newest first')
  .option('--status <status>', 'only jobs in this status (IN_QUEUE, IN_PROGRESS, COMPLETED, FAILED, ...)', jobStatus)
  .option('--type <type>', 'only jobs of this type')
  .option('--limit <n>', 'at most this many jobs (1 .. 100)', positiveInt, 20)
  .option('--json', 'print the API answer as JSON')
  .action(
    client(async (api, options: { status?: JobStatus; type?: string; limit: number; json?: boolean }) =>
      (await import('./job-commands.js')).listCommand(api, options),
    ),
  );

program
  .command('logs')
  .description("print a job's log lines (ctx.log and console output), each with its attempt")
  .argument('<id>')
  .option('-f, --follow', 'keep printing new lines until the job ends')
  .action(
    client(async (api, id: string, options: { follow?: boolean }) =>
      (await import('./follow-commands.js')).logsCommand(api, id, options),
    ),
  );

program
  .command('stream')
  .description("print a streaming job's chunks as they come, until it ends")
  .argument('<id>')
  .option('--json', 'each chunk as one line of JSON: {seq, attempt, data}')
  .action(
    client(async (api, id: string, options: { json?: boolean }) =>
      (await import('./follow-commands.js')).streamCommand(api, id, options),
    ),
  );

program
  .command('cancel')
  .description('cancel a job')
  .argument('<id>')
  .action(client(async (api, id: string) => (await import('./job-commands.js')).actionCommand(api, id, 'cancel')));

program
  .command('retry')
  .description('run a FAILED, TIMED_OUT or CANCELLED job again under the same id')
  .argument('<id>')
  .action(client(async (api, id: string) => (await import('./job-commands.js')).actionCommand(api, id, 'retry')));

program
  .command('pause')
  .description('pause a job type: its jobs wait IN_QUEUE, running ones finish, no worker gets a new one')
  .argument('<type>')
  .option('--reason <text>', 'why (shown in GET /v1/queues)')
  .action(
    client(async (api, type: string, options: { reason?: string }) =>
      (await import('./job-commands.js')).pauseCommand(api, type, options),
    ),
  );

program
  .command('workers')
  .description('list every worker process: job types, capacity, jobs running, draining or lost (admin key)')
  .option('--json', 'print the API answer as JSON')
  .action(
    client(async (api, options: { json?: boolean }) =>
      (await import('./worker-commands.js')).workersCommand(api, options),
    ),
  );

program
  .command('resume')
  .description('resume a paused job type')
  .argument('<type>')
  .action(client(async (api, type: string) => (await import('./job-commands.js')).resumeCommand(api, type)));

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`gpuflow: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof CliError ? err.exitCode : EXIT.failed);
});
