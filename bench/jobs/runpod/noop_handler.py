"""The no-op bench job as a RunPod Serverless handler file (runpod-python 1.12.0), run unmodified."""

import runpod


def handler(job):
    return {"ok": True}


runpod.serverless.start({"handler": handler})
