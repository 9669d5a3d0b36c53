"""gpuflow's no-op bench job, in Python: a plain sync handler (it runs in the worker's thread pool), as bench/jobs/noop.ts."""

import gpuflow
from bench_work import Payload, noop


@gpuflow.job("bench-noop", input=Payload)
def bench_noop(input: Payload, ctx: gpuflow.Context) -> dict[str, object]:
    return noop()
