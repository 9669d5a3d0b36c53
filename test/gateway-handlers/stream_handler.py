"""A generator RunPod handler whose job-done output aggregates what it streamed."""
import runpod


def handler(job):
    for word in job["input"]["words"]:
        yield {"word": word}


runpod.serverless.start({"handler": handler, "return_aggregate_stream": True})
