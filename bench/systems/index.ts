import type { SystemName } from '../types.js';
import type { SystemDefinition } from './system.js';

/**
 * Loaded on demand, so that a driver process holds only its own system's client library (its memory is measured).
 */
export const SYSTEM_DEFINITIONS: Record<SystemName, () => Promise<SystemDefinition>> = {
  gpuflow: async () => (await import('./gpuflow.js')).gpuflow,
  'gpuflow-python': async () => (await import('./gpuflow-python.js')).gpuflowPython,
  'gpuflow-runpod-gateway': async () => (await import('./gpuflow-runpod-gateway.js')).gpuflowRunpodGateway,
  temporal: async () => (await import('./temporal.js')).temporal,
  bullmq: async () => (await import('./bullmq.js')).bullmq,
  pgboss: async () => (await import('./pgboss.js')).pgboss,
};
