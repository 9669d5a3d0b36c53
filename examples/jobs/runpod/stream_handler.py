"""A RunPod generator handler: yields the text's words one at a time (as a model streams tokens); with
return_aggregate_stream the job's output is the list of every chunk."""

import time

import runpod


def handler(job):
    job_input = job["input"]
    delay = float(job_input.get("delay", 0.05))
    for word in job_input.get("text", "").split():
        time.sleep(delay)
        yield word.upper()


runpod.serverless.start({"handler": handler, "return_aggregate_stream": True})
