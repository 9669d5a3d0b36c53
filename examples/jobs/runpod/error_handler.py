"""A RunPod handler that validates its input and returns an error dict for bad input: the job ends FAILED with
that message and is not retried."""

import runpod
from runpod.serverless.utils.rp_validator import validate

SCHEMA = {"text": {"type": str, "required": True}, "delay": {"type": float, "required": False, "default": 0.0}}


def handler(job):
    checked = validate(job["input"], SCHEMA)
    if "errors" in checked:
        return {"error": "; ".join(checked["errors"])}
    text = checked["validated_input"]["text"]
    if not text.strip():
        return {"error": "text is empty"}
    return {"length": len(text)}


runpod.serverless.start({"handler": handler})
