import { describe, expect, it } from 'vitest';
import { jobStatusOf } from '../../jobs/job-status.js';
import { WorkerValues } from '../../jobs/worker-values.js';

const ARTIFACT = { name: 'out.png', size: 10, contentType: 'image/png' };

function recorded() {
  const reports: { jobId: unknown; field: unknown }[] = [];
  const values = new WorkerValues((_message, facts) => reports.push({ jobId: facts.jobId, field: facts.field }));
  return { values, reports };
}

describe('WorkerValues', () => {
  it('keeps the fields of a heartbeat that fit when a sibling does not', () => {
    const { values, reports } = recorded();
    expect(values.heartbeat('j', { progress: { percent: 40 }, log: 3, artifacts: [ARTIFACT] })).toEqual({
      artifacts: [ARTIFACT],
    });
    expect(values.heartbeat('j', { progress: { percent: 40, message: 'ok' }, log: [], artifacts: 'x' })).toEqual({
      progress: { percent: 40, message: 'ok' },
      log: [],
    });
    expect(reports).toEqual([
      { jobId: 'j', field: 'heartbeat.progress' },
      { jobId: 'j', field: 'heartbeat.log' },
      { jobId: 'j', field: 'heartbeat.artifacts' },
    ]);
  });

  it('reads no heartbeat from one that is no object, and reports it', () => {
    const { values, reports } = recorded();
    expect(values.heartbeat('j', 'progress: 40')).toBeUndefined();
    expect(values.heartbeat('j', undefined)).toBeUndefined();
    expect(reports).toEqual([{ jobId: 'j', field: 'heartbeat' }]);
  });

  it('reports each bad field once per job, and again for another job', () => {
    const { values, reports } = recorded();
    for (let i = 0; i < 5; i += 1) values.memo('a', { attempt: 'two', workerId: 'w' });
    values.memo('b', { attempt: 'two' });
    expect(values.memo('a', { attempt: 'two', workerId: 'w' })).toEqual({ workerId: 'w' });
    expect(reports).toEqual([
      { jobId: 'a', field: 'memo.attempt' },
      { jobId: 'b', field: 'memo.attempt' },
    ]);
  });

  it('remembers a bounded number of reports: the oldest are forgotten first', () => {
    const { values, reports } = recorded();
    for (let i = 0; i <= 1000; i += 1) values.memo(`job-${i}`, { attempt: 0 });
    values.memo('job-0', { attempt: 0 });
    values.memo('job-1000', { attempt: 0 });
    expect(reports).toHaveLength(1002);
  });

  it('reads failure details and stream batches only when they fit', () => {
    const { values, reports } = recorded();
    expect(values.failureDetails('j', { retryable: 'yes', workerId: 'gpu-1' })).toEqual({ workerId: 'gpu-1' });
    expect(values.failureDetails('j', 42)).toEqual({});
    expect(values.streamBatch('j', { attempt: 1, chunks: ['a'] })).toEqual({ attempt: 1, chunks: ['a'] });
    expect(values.streamBatch('j', { attempt: 'one', chunks: 'a' })).toBeUndefined();
    expect(reports.map((r) => r.field)).toEqual(['failure.details.retryable', 'failure.details', 'streamChunks']);
  });
});

describe('jobStatusOf', () => {
  it.each([
    [{ execution: 'RUNNING', pending: { queued: true } }, 'IN_QUEUE'],
    [{ execution: 'RUNNING', pending: { queued: false }, jobStatus: 'IN_QUEUE' }, 'IN_PROGRESS'],
    [{ execution: 'RUNNING', pending: null, scheduled: true }, 'IN_PROGRESS'],
    [{ execution: 'RUNNING', pending: null, scheduled: false }, 'IN_QUEUE'],
    [{ execution: 'RUNNING', jobStatus: 'IN_QUEUE' }, 'IN_QUEUE'],
    [{ execution: 'RUNNING', jobStatus: 'IN_PROGRESS' }, 'IN_PROGRESS'],
    [{ execution: 'FAILED', jobStatus: 'TIMED_OUT' }, 'TIMED_OUT'],
    [{ execution: 'FAILED', errorType: 'ExecutionTimeout' }, 'TIMED_OUT'],
    [{ execution: 'FAILED', jobStatus: 'FAILED', errorType: 'JobError' }, 'FAILED'],
    [{ execution: 'TERMINATED', jobStatus: 'IN_PROGRESS' }, 'FAILED'],
    [{ execution: 'TIMED_OUT' }, 'TIMED_OUT'],
    [{ execution: 'CANCELLED', jobStatus: 'IN_PROGRESS' }, 'CANCELLED'],
    [{ execution: 'COMPLETED' }, 'COMPLETED'],
  ] as const)('%o is %s', (run, status) => {
    expect(jobStatusOf(run)).toBe(status);
  });
});
