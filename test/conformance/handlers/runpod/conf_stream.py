"""conf-stream as a RunPod handler: an async generator streaming its words; the output aggregates the chunks."""

import asyncio

import runpod


async def handler(job):
    for word in job["input"]["words"]:
        await asyncio.sleep(job["input"]["delayMs"] / 1000)
        yield word


runpod.serverless.start({"handler": handler, "return_aggregate_stream": True})
