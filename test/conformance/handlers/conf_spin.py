"""A sync handler (run in a thread): loops until its time is up or ``ctx.cancelled`` turns true."""

import sys
import time
from pathlib import Path

from pydantic import BaseModel

import gpuflow

sys.path.insert(0, str(Path(__file__).parent))
from conf_suffix import conf_type


class Spin(BaseModel):
    seconds: float


@gpuflow.job(conf_type("conf-spin"), input=Spin)
def conf_spin(input: Spin, ctx: gpuflow.Context) -> dict[str, bool]:
    deadline = time.monotonic() + input.seconds
    ctx.progress(0, "spinning")
    while time.monotonic() < deadline:
        if ctx.cancelled:
            ctx.log(f"conf-spin stopped: {ctx.job_id}")
            return {"stopped": True}
        time.sleep(0.05)
    return {"stopped": False}
