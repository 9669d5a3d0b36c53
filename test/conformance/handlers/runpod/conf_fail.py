"""conf-fail as a RunPod handler: a non-retryable failure is RunPod's error dict; a retryable one is a raise."""

import runpod


def handler(job):
    if job["input"].get("retryable"):
        raise RuntimeError(job["input"]["message"])
    return {"error": job["input"]["message"]}


runpod.serverless.start({"handler": handler})
