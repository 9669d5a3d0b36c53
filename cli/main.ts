import { Command, InvalidArgumentError } from 'commander';
import { EnvError, loadEnv, type Env } from '../config/env.js';
import { stopWhenParentExits } from './runtime.js';
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
      process.exit(2);
    }
    throw err;
  }
}

const program = new Command('gpuflow')
  .description('Self-hostable serverless GPU job queue on Temporal')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(`gpuflow: ${text}`) });

program
  .command('dev')
  .description('run the whole stack here: Temporal dev server, orchestrator, a worker for examples/jobs, the API')
  .action(async () => (await import('./dev.js')).runDev(env()));

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
  .command('submit')
  .description('submit a job through the API and print its view')
  .argument('<type>', 'job type')
  .argument('[input]', 'input as JSON', '{}')
  .option('--wait', 'wait until the job ends, then print its final view')
  .option('--no-dedup', 'always create a new job')
  .action(async (type: string, input: string, options: { wait?: boolean; dedup: boolean }) =>
    (await import('./api-client.js')).submitCommand(env(), type, input, options),
  );

program
  .command('status')
  .description('print a job view')
  .argument('<id>')
  .action(async (id: string) => (await import('./api-client.js')).statusCommand(env(), id));

program
  .command('cancel')
  .description('cancel a job')
  .argument('<id>')
  .action(async (id: string) => (await import('./api-client.js')).cancelCommand(env(), id));

program
  .command('retry')
  .description('run a FAILED, TIMED_OUT or CANCELLED job again under the same id')
  .argument('<id>')
  .action(async (id: string) => (await import('./api-client.js')).retryCommand(env(), id));

program
  .command('pause')
  .description('pause a job type: its jobs wait IN_QUEUE, running ones finish, no worker gets a new one')
  .argument('<type>')
  .option('--reason <text>', 'why (shown in GET /v1/queues)')
  .action(async (type: string, options: { reason?: string }) =>
    (await import('./api-client.js')).pauseCommand(env(), type, options),
  );

program
  .command('resume')
  .description('resume a paused job type')
  .argument('<type>')
  .action(async (type: string) => (await import('./api-client.js')).resumeCommand(env(), type));

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`gpuflow: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
