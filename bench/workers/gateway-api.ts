import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runApiServer } from '../../api/server.js';
import { loadEnv } from '../../config/env.js';

/**
 * `gpuflow api` as `bin/gpuflow.js api` runs it, plus one JSON line per RunPod-gateway attempt
 * (`{"handOutMs", "doneMs"}`: the gateway's own time, from its own clock) appended to `BENCH_GATEWAY_TIMINGS`.
 */
async function main(): Promise<void> {
  const file = process.env.BENCH_GATEWAY_TIMINGS;
  if (!file) throw new Error('BENCH_GATEWAY_TIMINGS (a file to append the timings to) is not set');
  await runApiServer(loadEnv(), {
    onGatewayTiming: ({ handOutMs, doneMs }) => appendFileSync(file, `${JSON.stringify({ handOutMs, doneMs })}\n`),
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`gateway-api: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
