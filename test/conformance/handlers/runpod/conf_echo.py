"""conf-echo as a RunPod handler: echoes ``text``; of ``blob`` (a large input, which the gateway resolves from the
blob store before handing the job out) it returns only the length and SHA-256."""

import hashlib

import runpod


def handler(job):
    text = job["input"]["text"]
    blob = job["input"].get("blob", "")
    return {"text": text, "blobLength": len(blob), "blobSha256": hashlib.sha256(blob.encode("utf-8")).hexdigest()}


runpod.serverless.start({"handler": handler})
