import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PY_PYTHON, resolvePython } from '../../../scripts/python-env.js';
import { isExecutable } from '../../../scripts/temporal-cli.js';
import { runProcess, type GpuflowProcess } from '../../support/processes.js';
import { TYPE_SUFFIX_VAR, type ConformanceType, type WorkerImpl, type WorkerProcess } from '../worker-impl.js';

const HANDLERS = join(import.meta.dirname, '..', 'handlers', 'runpod');
const TYPES = ['conf-sleep', 'conf-fail', 'conf-echo', 'conf-stream'] as const satisfies readonly ConformanceType[];

/**
 * An unmodified runpod 1.12.0 worker (`python handler.py`, the real PyPI package from `.tools/py-venv`) taking jobs
 * through the API's worker gateway, configured by environment variables only. RunPod runs one handler per
 * process, so a worker of several types is one process per type, each with a pod id of its own (the gateway reads
 * a ping that lists no job as "this pod holds none").
 */
export const runpodRunner: WorkerImpl = {
  name: 'runpod-gateway',
  types: TYPES,
  lacks: {
    'input-schema': 'a RunPod handler declares no input schema',
    checkpoint: 'runpod has no checkpoint API and no attempt number',
    artifact: 'runpod has no artifact API',
    'sync-cancel': 'runpod cannot interrupt a sync handler (RUNPOD-PROTOCOL A.6)',
  },
  async start({ types, capacity, identity, env, apiUrl }) {
    const python = isExecutable(PY_PYTHON) ? PY_PYTHON : resolvePython();
    const served = types.filter((type): type is (typeof TYPES)[number] => (TYPES as readonly string[]).includes(type));
    const podOf = (type: ConformanceType) => (type === served[0] ? identity : `${identity}.${type}`);
    const runners = served.map((type) => {
      const prefix = `${apiUrl}/runpod-worker/${type}-${env[TYPE_SUFFIX_VAR]}`;
      return runProcess(
        python,
        [join(HANDLERS, `${type.replaceAll('-', '_')}.py`)],
        {
          HOME: mkdtempSync(join(tmpdir(), 'runpod-home-')),
          RUNPOD_WEBHOOK_GET_JOB: `${prefix}/job-take/$ID?`,
          RUNPOD_WEBHOOK_POST_OUTPUT: `${prefix}/job-done/$RUNPOD_POD_ID/$ID?`,
          RUNPOD_WEBHOOK_POST_STREAM: `${prefix}/job-stream/$RUNPOD_POD_ID/$ID?`,
          RUNPOD_WEBHOOK_PING: `${prefix}/ping/$RUNPOD_POD_ID?`,
          RUNPOD_AI_API_KEY: 'conformance-runner',
          RUNPOD_POD_ID: podOf(type),
          RUNPOD_PING_INTERVAL: '1000',
          // Never reach past this machine: the start-up checks open a connection to a public DNS server.
          RUNPOD_SKIP_AUTO_SYSTEM_CHECKS: 'true',
          RUNPOD_SKIP_GPU_CHECK: 'true',
          // DEBUG names the first job-take ("Starting job acquisition"): the runner is then ready.
          RUNPOD_LOG_LEVEL: 'DEBUG',
          PYTHONUNBUFFERED: '1',
          CONF_CAPACITY: String(capacity),
        },
        // Its own process group: the ping process outlives a SIGKILLed main process (A.5), so a kill takes both.
        { detached: true },
      );
    });
    await Promise.all(runners.map((runner) => runner.waitForLine(/Starting job acquisition/, 90_000)));
    return runnersProcess(identity, podOf, runners);
  },
};

/** The runner processes of one worker as one WorkerProcess: SIGKILL takes each process group, SIGTERM each main. */
function runnersProcess(
  identity: string,
  identityOf: (type: ConformanceType) => string,
  runners: GpuflowProcess[],
): WorkerProcess {
  const exited = Promise.all(runners.map((runner) => runner.exited)).then(
    (codes) => codes.find((code) => code !== 0) ?? 0,
  );
  const process: GpuflowProcess = {
    child: runners[0]!.child,
    get output() {
      return runners.flatMap((runner) => runner.output);
    },
    waitForLine: (pattern, timeoutMs) => Promise.any(runners.map((runner) => runner.waitForLine(pattern, timeoutMs))),
    exited,
  };
  return {
    identity,
    identityOf,
    process,
    kill(signal) {
      for (const { child } of runners) {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
        try {
          // A drain (SIGTERM) goes to the worker, as a container runtime sends it to PID 1; a kill to the group.
          if (signal === 'SIGKILL') globalThis.process.kill(-child.pid, signal);
          else child.kill(signal);
        } catch {
          // already gone
        }
      }
    },
  };
}
