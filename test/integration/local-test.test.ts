import { describe, expect, it } from 'vitest';
import { runGpuflow } from '../support/processes.js';

/** `gpuflow test`: one job of a TS module, in-process, no Temporal. */
describe('gpuflow test', () => {
  it('prints the output of a job and exits 0', async () => {
    const run = runGpuflow(['test', 'examples/jobs/echo.ts', '--input', '{"message":"hi"}'], {});
    expect(await run.exited).toBe(0);
    expect(JSON.parse(run.output.join('\n'))).toEqual({ message: 'hi' });
  }, 60_000);

  it('fails with the validation message and exit code 1', async () => {
    const run = runGpuflow(['test', 'examples/jobs/tokens.ts', '--input', '{}'], {});
    expect(await run.exited).toBe(1);
    expect(run.output.join('\n')).toMatch(/error: ValidationError: input\.\w+: .*\(not retryable\)/);
  }, 60_000);
});
