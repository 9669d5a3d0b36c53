"""gpuflow's 10 ms bench job, in Python: returns its handler's own start and end, as bench/jobs/tick.ts."""

import gpuflow
from bench_work import Payload, tick


@gpuflow.job("bench-tick", input=Payload)
async def bench_tick(input: Payload, ctx: gpuflow.Context) -> dict[str, float]:
    return await tick()
