"""A RunPod handler that fails the two ways RunPod workers do: an error dict, or an exception."""
import runpod


def handler(job):
    if job["input"].get("mode") == "raise":
        raise ValueError("boom from the handler")
    return {"error": "Input is missing the 'seed' key.", "extra": 1}


runpod.serverless.start({"handler": handler})
