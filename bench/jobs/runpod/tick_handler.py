"""The 10 ms bench job as a RunPod Serverless handler file: returns its own start and end (epoch ms), as tick.ts."""

import asyncio
import time

import runpod


async def handler(job):
    start_ms = time.time() * 1000
    await asyncio.sleep(0.010)
    return {"startMs": start_ms, "endMs": time.time() * 1000}


runpod.serverless.start({"handler": handler})
