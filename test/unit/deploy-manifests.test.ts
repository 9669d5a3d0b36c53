import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../../scripts/temporal-cli.js';

/** The kinds deploy/ may hold, each with the validator generated from the Kubernetes or KEDA OpenAPI schemas. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

const DEPLOY = join(PROJECT_ROOT, 'deploy');
const manifests: Manifest[] = readdirSync(DEPLOY)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) => parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8')).map((doc) => doc.toJS() as Manifest));

function validate(manifest: Manifest): void {
  const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!Model) throw new Error(`deploy/ holds a ${manifest.apiVersion} ${manifest.kind}, which no schema here checks`);
  new Model(manifest as never).validate();
}

const named = (kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/`);
  return structuredClone(found);
};

type Container = { args: string[]; resources: { requests: Record<string, string> } };
const workerContainer = (m: Manifest) =>
  (m.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0]!;

/**
 * deploy/ against the Kubernetes and KEDA schemas (kubernetes-models and @kubernetes-models/keda: validators
 * generated from the OpenAPI schemas, run offline), and what the manifests must say for scale to zero.
 */
describe('deploy/ manifests', () => {
  it.each(manifests.map((m) => [`${m.kind} ${m.metadata.name}`, m] as const))('%s passes its schema', (_, m) => {
    expect(() => validate(m)).not.toThrow();
  });

  it('fails a manifest with a field of the wrong shape', () => {
    const worker = named('Deployment', 'gpuflow-worker-mandelbrot');
    (worker.spec as { replicas: unknown }).replicas = 'zero';
    expect(() => validate(worker)).toThrow(/replicas must be integer/);
    const scaler = named('ScaledObject', 'gpuflow-worker-mandelbrot');
    (scaler.spec as { triggers: unknown }).triggers = [{ metadata: { taskQueue: 'jobs.mandelbrot' } }];
    expect(() => validate(scaler)).toThrow(/triggers\/0 must have required property/);
    const api = named('Deployment', 'gpuflow-api');
    workerContainer(api).resources.requests = 4 as never;
    expect(() => validate(api)).toThrow(/requests must be object/);
  });

  it('runs the API, the orchestrator and a GPU worker with --idle-exit and metrics ports', () => {
    for (const name of ['gpuflow-api', 'gpuflow-orchestrator']) expect(named('Deployment', name)).toBeDefined();
    const worker = workerContainer(named('Deployment', 'gpuflow-worker-mandelbrot'));
    expect(worker.resources.requests['nvidia.com/gpu']).toBe('1');
    expect(worker.args.slice(0, 2)).toEqual(['worker', 'examples/jobs/mandelbrot.ts']);
    expect(worker.args).toEqual(expect.arrayContaining(['--idle-exit', '--metrics-port', '--sdk-metrics-port']));
  });

  it("scales the worker on its job type's activity backlog, down to zero", () => {
    const scaler = named('ScaledObject', 'gpuflow-worker-mandelbrot');
    const spec = scaler.spec as {
      scaleTargetRef: { name: string };
      minReplicaCount: number;
      triggers: { type: string; metadata: Record<string, string> }[];
    };
    expect(spec.scaleTargetRef.name).toBe('gpuflow-worker-mandelbrot');
    expect(spec.minReplicaCount).toBe(0);
    expect(spec.triggers).toEqual([
      {
        type: 'temporal',
        metadata: expect.objectContaining({
          taskQueue: 'jobs.mandelbrot',
          queueTypes: 'activity',
          namespace: 'default',
          activationTargetQueueSize: '0',
        }) as unknown,
      },
    ]);
    // KEDA's Temporal scaler requires these (keda.sh/docs/2.17+/scalers/temporal).
    expect(Object.keys(spec.triggers[0]!.metadata)).toEqual(expect.arrayContaining(['endpoint', 'targetQueueSize']));
  });
});
