"""Echoes ``text``; of ``blob`` (a large input) it returns only the length and SHA-256."""

import hashlib
import sys
from pathlib import Path

from pydantic import BaseModel

import gpuflow

sys.path.insert(0, str(Path(__file__).parent))
from conf_suffix import conf_type


class Echo(BaseModel):
    text: str
    blob: str = ""


@gpuflow.job(conf_type("conf-echo"), input=Echo)
def conf_echo(input: Echo, ctx: gpuflow.Context) -> dict[str, object]:
    digest = hashlib.sha256(input.blob.encode("utf-8")).hexdigest()
    return {"text": input.text, "blobLength": len(input.blob), "blobSha256": digest}
