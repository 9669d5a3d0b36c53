/**
 * Node flags that `gpuflow api` runs with (`gpuflow dev`, docker-compose.yml and deploy/api.yaml pass them; the
 * bench too). They must be given at start: V8 sizes its heap when the process starts, so the API cannot set them
 * itself.
 *
 * `--max-semi-space-size=4`: V8 grows the young generation to its 16 MiB-per-semi-space maximum (32 MiB resident)
 * while the API loads its modules and keeps it there under load, though what a request allocates dies young in far
 * less: capped at 4 MiB, peak RSS under the bench's throughput load falls by about 25-30 MB with no measurable cost
 * in CPU time or throughput (README, "The API's memory").
 */
export const API_NODE_FLAGS = ['--max-semi-space-size=4'] as const;
