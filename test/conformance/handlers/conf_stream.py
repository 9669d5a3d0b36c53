"""Streams its words one by one (an async generator); the output is every chunk."""

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from pydantic import BaseModel

import gpuflow

sys.path.insert(0, str(Path(__file__).parent))
from conf_suffix import conf_type


class Stream(BaseModel):
    words: list[str]
    delayMs: int


@gpuflow.job(conf_type("conf-stream"), input=Stream, aggregate_stream=True)
async def conf_stream(input: Stream, ctx: gpuflow.Context) -> AsyncIterator[str]:
    for word in input.words:
        await asyncio.sleep(input.delayMs / 1000)
        yield word
