"""Stores ``report.txt`` (its text) as an artifact of the job."""

import sys
from pathlib import Path

from pydantic import BaseModel

import gpuflow

sys.path.insert(0, str(Path(__file__).parent))
from conf_suffix import conf_type


class Artifact(BaseModel):
    text: str


@gpuflow.job(conf_type("conf-artifact"), input=Artifact)
def conf_artifact(input: Artifact, ctx: gpuflow.Context) -> dict[str, str]:
    ctx.artifact("report.txt", input.text, "text/plain")
    return {"stored": "report.txt"}
