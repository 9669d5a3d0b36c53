import type { WorkerImpl } from '../worker-impl.js';
import { pythonWorker } from './python-worker.js';
import { runpodRunner } from './runpod-runner.js';
import { tsWorker } from './ts-worker.js';

/** Every worker implementation the conformance scenarios run against. */
export const WORKER_IMPLS: readonly WorkerImpl[] = [tsWorker, pythonWorker, runpodRunner];
