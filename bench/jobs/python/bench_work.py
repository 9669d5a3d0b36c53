"""The Python twins of bench/jobs/work.ts: the same no-op and the same 10 ms job."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel

TICK_S = 0.010  # TICK_MS of work.ts


class Payload(BaseModel):
    """The input of every bench job: the 256-character string of PAYLOAD in work.ts."""

    data: str


def now_ms() -> float:
    """Epoch ms with sub-ms precision, the clock of work.ts's nowMs (performance.timeOrigin + now())."""
    return time.time() * 1000


def noop() -> dict[str, Any]:
    return {"ok": True}


async def tick() -> dict[str, float]:
    """The 10 ms job: its own start and end, so that the harness sees the worker's idle time between jobs."""
    start_ms = now_ms()
    await asyncio.sleep(TICK_S)
    return {"startMs": start_ms, "endMs": now_ms()}
