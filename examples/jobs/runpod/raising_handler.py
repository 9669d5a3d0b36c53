"""A RunPod handler that raises: the attempt fails and gpuflow retries it under the job's retry policy."""

import runpod


def handler(job):
    raise RuntimeError(f"model crashed on {job['input'].get('text', '')!r}")


runpod.serverless.start({"handler": handler})
