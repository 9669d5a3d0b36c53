"""A RunPod Serverless handler, as RunPod users write it: counts the words of a text a step at a time, reporting
progress with runpod.serverless.progress_update. Run it with gpuflow, unchanged:

    gpuflow-worker --runpod examples/jobs/runpod/progress_handler.py --type rp-progress
"""

import time

import runpod


def handler(job):
    job_input = job["input"]
    text = job_input.get("text", "")
    steps = int(job_input.get("steps", 4))
    delay = float(job_input.get("delay", 0.25))
    words = text.split()
    counts = {}
    for step in range(steps):
        for word in words[step::steps]:
            counts[word.lower()] = counts.get(word.lower(), 0) + 1
        runpod.serverless.progress_update(job, f"{step + 1}/{steps}")
        time.sleep(delay)
    return {"job_id": job["id"], "words": len(words), "counts": counts}


runpod.serverless.start({"handler": handler})
