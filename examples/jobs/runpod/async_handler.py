"""A RunPod async handler with a concurrency_modifier: up to 3 jobs run at once in one worker."""

import asyncio

import runpod


async def handler(job):
    job_input = job["input"]
    await asyncio.sleep(float(job_input.get("delay", 0.5)))
    return {"reversed": job_input.get("text", "")[::-1], "job_id": job["id"]}


def concurrency_modifier(current_concurrency):
    return 3


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler, "concurrency_modifier": concurrency_modifier})
