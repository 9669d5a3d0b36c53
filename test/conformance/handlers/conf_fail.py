"""Fails with a JobError, retryable or not."""

import sys
from pathlib import Path

from pydantic import BaseModel

import gpuflow

sys.path.insert(0, str(Path(__file__).parent))
from conf_suffix import conf_type


class Fail(BaseModel):
    message: str
    retryable: bool


@gpuflow.job(conf_type("conf-fail"), input=Fail)
def conf_fail(input: Fail, ctx: gpuflow.Context) -> None:
    raise gpuflow.JobError(input.message, retryable=input.retryable)
