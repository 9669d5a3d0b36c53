"""Connecting a worker to Temporal, waiting for a server that is not up yet (as ``gpuflow worker`` does in TS)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from temporalio.client import Client

#: First wait between attempts, seconds; it doubles up to :data:`MAX_RETRY_DELAY_S`.
FIRST_RETRY_DELAY_S = 0.5
#: Longest wait between two attempts, seconds.
MAX_RETRY_DELAY_S = 10.0

_TRANSIENT = re.compile(
    r"connect|refused|unavailable|unreachable|timed? ?out|deadline|dns|resolve|reset|transport|broken pipe", re.I
)
_PERMANENT = re.compile(r"unauthenticated|permission|certificate|tls|invalid uri|namespace .* not found", re.I)


def _reason(message: str) -> str:
    if re.search(r"ConnectionRefused|connection refused", message, re.I):
        return "connection refused"
    if re.search(r"dns|failed to lookup|resolve", message, re.I):
        return "the host name does not resolve"
    if re.search(r"timed? ?out|deadline", message, re.I):
        return "no answer in time"
    line = message.splitlines()[0] if message else message
    return line if len(line) <= 160 else line[:157] + "..."


async def connect_with_backoff(
    connect: dict[str, Any], *, who: str, print_line: Callable[[str], None], **extra: Any
) -> Client:
    """``Client.connect``, retried with capped exponential backoff while the server is not reachable, one line per
    failed attempt saying what it waits for. An error that waiting cannot fix (TLS, an API key) is raised at once."""
    address = connect.get("target_host", "?")
    namespace = connect.get("namespace", "default")
    delay = FIRST_RETRY_DELAY_S
    attempt = 1
    while True:
        try:
            client = await Client.connect(**connect, **extra)
        except RuntimeError as err:
            message = str(err)
            if _PERMANENT.search(message) or not _TRANSIENT.search(message):
                raise
            print_line(
                f"{who}: waiting for Temporal at {address} (namespace {namespace}): attempt {attempt} failed"
                f" ({_reason(message)}); next try in {delay:.1f} s"
            )
            await asyncio.sleep(delay)
            delay = min(MAX_RETRY_DELAY_S, delay * 2)
            attempt += 1
            continue
        if attempt > 1:
            print_line(f"{who}: connected to Temporal at {address}")
        return client
