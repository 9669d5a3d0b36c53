"""An async handler: sleeps in 100 ms ticks, progress and a checkpoint each second, resumes from the checkpoint.
Its output says when it ran (epoch ms), for the capacity scenario."""

import asyncio
import math
import sys
import time
from pathlib import Path

from pydantic import BaseModel

import gpuflow

sys.path.insert(0, str(Path(__file__).parent))
from conf_suffix import conf_type


class Sleep(BaseModel):
    seconds: float


@gpuflow.job(conf_type("conf-sleep"), input=Sleep)
async def conf_sleep(input: Sleep, ctx: gpuflow.Context) -> dict[str, object]:
    resumed = ctx.resume_from
    resumed_from = resumed.get("sleptSeconds", 0) if isinstance(resumed, dict) else 0
    ran_from = time.time() * 1000
    started_at = time.monotonic() - resumed_from
    reported = -1
    try:
        elapsed = float(resumed_from)
        while elapsed < input.seconds:
            slept = math.floor(elapsed)
            if slept > reported:
                ctx.progress(elapsed / input.seconds * 100, f"slept {slept} of {input.seconds:g}")
                if slept > 0:
                    ctx.checkpoint({"sleptSeconds": slept})
                reported = slept
            await asyncio.sleep(0.1)
            elapsed = time.monotonic() - started_at
    except asyncio.CancelledError:
        ctx.log(f"conf-sleep stopped: {ctx.job_id}")
        raise
    return {
        "slept": input.seconds,
        "resumedFrom": resumed_from,
        "attempt": ctx.attempt,
        "worker": ctx.worker_id,
        "ranFrom": ran_from,
        "ranTo": time.time() * 1000,
    }
