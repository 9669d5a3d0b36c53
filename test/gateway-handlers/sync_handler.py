"""A plain sync RunPod handler: echoes its input, optionally after reporting progress and sleeping."""
import time

import runpod


def handler(job):
    job_input = job["input"]
    for step in range(job_input.get("progress_steps", 0)):
        runpod.serverless.progress_update(job, {"percent": (step + 1) * 25, "step": step + 1})
        time.sleep(0.3)
    time.sleep(job_input.get("sleep", 0))
    return {"echo": job_input, "job_id": job["id"].split("~")[0]}


runpod.serverless.start({"handler": handler})
