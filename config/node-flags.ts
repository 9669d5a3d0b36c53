import { setFlagsFromString } from 'node:v8';

/**
 * Node flags that `gpuflow api` runs with (`gpuflow dev`, docker-compose.yml and deploy/api.yaml pass them; the
 * bench too). They must be given at start: V8 sizes its young generation when the process starts, so the API
 * cannot set them itself.
 *
 * `--max-semi-space-size=4`: V8 grows the young generation to its 16 MiB-per-semi-space maximum (32 MiB resident)
 * while the API loads its modules and keeps it there under load, though what a request allocates dies young in far
 * less: capped at 4 MiB, peak RSS under the bench's throughput load falls by about 25-30 MB with no measurable cost
 * in CPU time or throughput (README, "The API's memory").
 */
export const API_NODE_FLAGS = ['--max-semi-space-size=4'] as const;

/**
 * How far V8 lets the API's old generation grow past what was live after a full collection before the next one:
 * 1.5×. On a machine with 2 GB or more of heap limit V8 allows up to 4×, and the API's old generation is mostly
 * garbage promoted from requests in flight (the result long-polls live across several scavenges): from a live heap
 * of about 40 MB it grew to 115-120 MB before a collection, 230 MB resident under the bench's full throughput load,
 * against 150 MB at 1.5× for about 5-10 % more of the API's CPU time (README, "The API's old generation").
 */
export const API_HEAP_GROWING_PERCENT = 50;

/**
 * Applies {@link API_HEAP_GROWING_PERCENT} to this process. V8 reads the factor whenever it sets the next limit
 * (after every full collection), so the API sets it itself at start: every deployment gets it, and Node refuses V8
 * flags like this one in `NODE_OPTIONS`.
 */
export function tuneApiHeap(): void {
  setFlagsFromString(`--heap-growing-percent=${API_HEAP_GROWING_PERCENT}`);
}
