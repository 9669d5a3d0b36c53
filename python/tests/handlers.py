"""Handlers the tests run, one per kind."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from pydantic import BaseModel

import gpuflow


class Steps(BaseModel):
    steps: int


@gpuflow.job("sync-job", input=Steps, setup=lambda: {"model": "loaded"})
def sync_job(input: Steps, ctx: gpuflow.Context) -> dict[str, Any]:
    for step in range(input.steps):
        ctx.progress(100 * (step + 1) / input.steps, f"step {step + 1}")
    ctx.log("done with", input.steps)
    return {"steps": input.steps, "model": ctx.resources["model"], "resume": ctx.resume_from}


@gpuflow.job("async-job")
async def async_job(input: Any, ctx: gpuflow.Context) -> Any:
    await asyncio.sleep(0)
    ctx.checkpoint({"at": 1})
    return {"echo": input}


@gpuflow.job("gen-job", aggregate_stream=True)
def gen_job(input: Any, ctx: gpuflow.Context) -> Iterator[str]:
    yield "one"
    yield "two"


@gpuflow.job("agen-job")
async def agen_job(input: Any, ctx: gpuflow.Context) -> AsyncIterator[Any]:
    yield {"token": "a"}
    yield None


@gpuflow.job("fail-job")
def fail_job(input: Any, ctx: gpuflow.Context) -> None:
    raise gpuflow.JobError("bad image", retryable=False)


@gpuflow.job("crash-job")
def crash_job(input: Any, ctx: gpuflow.Context) -> None:
    raise KeyError("gone")


SEEN: dict[str, Any] = {}


@gpuflow.job("slow-async")
async def slow_async(input: Any, ctx: gpuflow.Context) -> None:
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        SEEN["async"] = "CancelledError"
        raise


@gpuflow.job("slow-sync")
def slow_sync(input: Any, ctx: gpuflow.Context) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ctx.cancelled:
            SEEN["sync"] = "cancelled"
            return "stopped"
        time.sleep(0.01)
    return "never"


@gpuflow.job("stuck-sync")
def stuck_sync(input: Any, ctx: gpuflow.Context) -> str:
    try:
        while True:
            time.sleep(0.01)
    except asyncio.CancelledError:
        SEEN["stuck"] = "interrupted"
        raise
