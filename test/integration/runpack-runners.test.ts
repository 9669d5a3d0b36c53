import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueSuffix, waitFor } from '../support/stack.js';
import {
  CLAIM_WINDOW_MS,
  RUNNER_KEY,
  SUBMIT_KEY,
  THRESHOLD_MS,
  startRunpackStack,
  type RunpackHarness,
} from '../support/runpack.js';

let harness: RunpackHarness;

beforeAll(async () => {
  harness = await startRunpackStack();
}, 120_000);

afterAll(async () => {
  await harness?.stop();
});

describe('Runpack face: lost runners and claim races', () => {
  it('a runner SIGKILLed mid-job loses it after the threshold: the job goes to another runner, and a late report is refused', async () => {
    const { api, startRunner, runpackJob, untilStatus } = harness;
    const type = `rp_kill_${uniqueSuffix()}`;
    const { job_id: id } = (
      await api('POST', '/api/jobs/submit', SUBMIT_KEY, { job_type: type, input_params: { k: 1 } })
    ).body;
    const doomed = startRunner('runner-doomed', [type], { RUNNER_STEPS: '100', RUNNER_STEP_MS: '300' });
    await waitFor(
      async () => doomed.events.some((event) => event.event === 'heartbeat'),
      (beating) => beating,
    );
    const claimedId = doomed.events.find((event) => event.event === 'claim')?.job_id as string;
    doomed.kill('SIGKILL');
    const killedAt = Date.now();
    const rescuer = startRunner('runner-rescuer', [type], { RUNNER_STEPS: '1', RUNNER_STEP_MS: '50' });
    const done = await untilStatus(id, 'completed');
    const rescuedAt = Date.now();
    expect(done).toMatchObject({ attempts: 2, output_data: { runner: 'runner-rescuer' } });
    expect(rescuedAt - killedAt).toBeGreaterThanOrEqual(THRESHOLD_MS);
    // The rescuer's job id is another attempt's: the killed runner's id names the attempt the gateway gave up on.
    const rescuedId = rescuer.events.find((event) => event.event === 'claim')?.job_id;
    expect(rescuedId).not.toBe(claimedId);
    const late = await api(
      'POST',
      `/api/runner/jobs/${claimedId}/complete`,
      RUNNER_KEY,
      { output_data: { late: true } },
      { 'x-runner-id': doomed.events[0]?.runner_id as string },
    );
    expect(late.status).toBe(409);
    expect((await runpackJob(id)).body.output_data).toEqual({ echo: { k: 1 }, runner: 'runner-rescuer' });
  }, 90_000);

  it('two runners race to claim one job: the first claim wins, the other gets 409 and the job runs once', async () => {
    const { api, gpuflowJob } = harness;
    const type = `rp_race_${uniqueSuffix()}`;
    const headers = async (name: string) => {
      const registered = await api('POST', '/api/runner/register', RUNNER_KEY, { name, capabilities: [type] });
      return { 'x-runner-id': registered.body.runner_id };
    };
    const [a, b] = [await headers('racer-a'), await headers('racer-b')];
    const { job_id: id } = (await api('POST', '/api/jobs/submit', SUBMIT_KEY, { job_type: type, input_params: {} }))
      .body;
    const available = (runner: Record<string, string>) =>
      api('GET', `/api/runner/jobs/available?types[]=${type}`, RUNNER_KEY, undefined, runner);
    const offered = await waitFor(
      () => available(a),
      (answer) => answer.body.jobs.length > 0,
    );
    const runnerJobId = offered.body.jobs[0]?.job_id ?? '';
    expect(offered.body.jobs[0]).toMatchObject({ job_type: type, status: 'pending', input_params: {} });
    // While the job is offered to A, B does not see it, and cannot claim it.
    expect((await available(b)).body.jobs).toEqual([]);
    const early = await api('POST', `/api/runner/jobs/${runnerJobId}/claim`, RUNNER_KEY, undefined, b);
    expect(early).toMatchObject({ status: 409, body: { code: 'GPUFLOW_ERR_NOT_YOUR_JOB' } });
    // A's offer lapses unclaimed: both claim at once, and exactly one of them gets it.
    await new Promise((resolve) => setTimeout(resolve, CLAIM_WINDOW_MS + 300));
    const claims = await Promise.all(
      [a, b].map((runner) => api('POST', `/api/runner/jobs/${runnerJobId}/claim`, RUNNER_KEY, undefined, runner)),
    );
    expect(claims.map((claim) => claim.status).sort()).toEqual([200, 409]);
    const winner = claims[0]?.status === 200 ? a : b;
    const loser = winner === a ? b : a;
    expect(claims.find((claim) => claim.status === 409)?.body.message).toMatch(/already claimed by another runner/);
    const beat = (runner: Record<string, string>) =>
      api('POST', `/api/runner/jobs/${runnerJobId}/heartbeat`, RUNNER_KEY, { progress_current: 1 }, runner);
    expect((await beat(loser)).status).toBe(409);
    expect((await beat(winner)).status).toBe(200);
    const complete = await api(
      'POST',
      `/api/runner/jobs/${runnerJobId}/complete`,
      RUNNER_KEY,
      { output_data: 1 },
      winner,
    );
    expect(complete.status).toBe(200);
    const view = await waitFor(
      () => gpuflowJob(id),
      (job) => job.status === 'COMPLETED',
    );
    expect(view).toMatchObject({ attempt: 1, output: 1, workerId: winner['x-runner-id'] });
  }, 90_000);
});
