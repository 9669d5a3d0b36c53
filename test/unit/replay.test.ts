import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { historyFromObject } from '../replay/history-file.js';
import { bundleWorkflows } from '../../workers/orchestrator.js';

const HISTORIES_DIR = fileURLToPath(new URL('../replay/histories/', import.meta.url));

interface RecordedHistory {
  workflowId: string;
  history: unknown;
}

Runtime.install({ logger: new DefaultLogger('ERROR') });

/**
 * Histories of real jobs (recorded once by `npm run replay:record`, committed) replayed against today's workflow
 * code: a change that would make a running job's workflow nondeterministic fails here, before it reaches a server
 * with jobs in flight. No server is needed.
 */
describe('replay of recorded job histories', () => {
  const names = readdirSync(HISTORIES_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort();
  const results = new Map<string, ReplayResult>();

  beforeAll(async () => {
    const bundle = await bundleWorkflows();
    const recorded = names.map((name) => {
      const { workflowId, history } = JSON.parse(readFileSync(join(HISTORIES_DIR, name), 'utf8')) as RecordedHistory;
      return { name, workflowId, history: historyFromObject(history) };
    });
    const byWorkflowId = new Map(recorded.map(({ name, workflowId }) => [workflowId, name]));
    // One replay worker, one bundle, for every history.
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, recorded)) {
      results.set(byWorkflowId.get(result.workflowId) ?? result.workflowId, result);
    }
  }, 120_000);

  it('has the recorded scenarios', () => {
    expect(names).toEqual(
      expect.arrayContaining([
        'completed-echo.json',
        'retried-then-failed.json',
        'cancelled-sleep.json',
        'timed-out-sleep.json',
        'streamed-tokens.json',
        'artifact-mandelbrot.json',
      ]),
    );
  });

  it.each(names)('%s replays without nondeterminism', (name) => {
    const result = results.get(name);
    expect(result, `${name} was not replayed`).toBeDefined();
    expect(result?.error, `${name}: ${String(result?.error)}`).toBeUndefined();
  });
});
