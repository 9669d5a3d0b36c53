"""conf-sleep as a RunPod handler: an async handler that sleeps in 100 ms ticks with progress each second, and
re-raises cancellation as RunPod's docs ask. RunPod has no checkpoint API: a retry starts from 0. Its output says
when it ran (epoch ms), for the capacity scenario; ``concurrency_modifier`` gives the capacity (``CONF_CAPACITY``)."""

import asyncio
import math
import os
import time

import runpod


async def handler(job):
    seconds = float(job["input"]["seconds"])
    job_id = job["id"].split("~")[0]
    ran_from = time.time() * 1000
    started_at = time.monotonic()
    reported = -1
    try:
        elapsed = 0.0
        while elapsed < seconds:
            slept = math.floor(elapsed)
            if slept > reported:
                progress = {"percent": elapsed / seconds * 100, "message": f"slept {slept} of {seconds:g}"}
                runpod.serverless.progress_update(job, progress)
                reported = slept
            await asyncio.sleep(0.1)
            elapsed = time.monotonic() - started_at
    except asyncio.CancelledError:
        print(f"conf-sleep stopped: {job_id}", flush=True)
        raise
    return {"slept": seconds, "resumedFrom": 0, "ranFrom": ran_from, "ranTo": time.time() * 1000}


def concurrency_modifier(current):
    return int(os.environ.get("CONF_CAPACITY", "1"))


runpod.serverless.start({"handler": handler, "concurrency_modifier": concurrency_modifier})
