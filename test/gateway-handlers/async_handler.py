"""An async RunPod handler with two jobs at a time; it re-raises cancellation as RunPod's docs ask."""
import asyncio

import runpod


async def handler(job):
    try:
        await asyncio.sleep(job["input"].get("sleep", 0))
    except asyncio.CancelledError:
        print(f"STOPPED {job['id'].split('~')[0]}", flush=True)
        raise
    return {"slept": job["input"].get("sleep", 0)}


def concurrency_modifier(current):
    return 2


runpod.serverless.start({"handler": handler, "concurrency_modifier": concurrency_modifier})
