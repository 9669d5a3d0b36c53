"""A finished attempt's result kept in the blob store, so that a retry after a lost completion completes with it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from .blobs import BlobStore
from .protocol import is_execute_job_result

#: Longest a stopping worker waits for the results it is still keeping, seconds: a slow store must not hold it.
KEEPS_LANDED_TIMEOUT_S = 5.0


class ResultKeeper:
    """Keeps finished attempts' results while their completions are reported, not before (as the TS worker does).

    A write before the report held every completion, and so the worker's next job, for a thread hop and a
    blob-store round trip. Nothing is lost by it: the result is safe from the moment its write lands, as it was
    when the report waited for it, and a lost report is followed by the next attempt only after the SDK has tried
    for about 10 s and the attempt's lease has run out, long after the write landed. A store that fails here only
    loses that protection, never the result.
    """

    def __init__(self, print_line: Callable[[str], None]) -> None:
        self._print_line = print_line
        # A task is held here until it is done.
        self._keeping: set[asyncio.Task[None]] = set()

    def keep(self, store: BlobStore, key: str, body: bytes, label: str) -> None:
        async def write() -> None:
            try:
                await asyncio.to_thread(store.put, key, body, "application/json")
            except Exception as err:
                self._print_line(f"[{label}] could not keep the result for a lost completion: {err}")

        task = asyncio.create_task(write())
        self._keeping.add(task)
        task.add_done_callback(self._keeping.discard)

    async def landed(self) -> None:
        """Returns once the results still being kept are written (at most ``KEEPS_LANDED_TIMEOUT_S``): a stopping
        worker waits for it, so that its process does not exit before they are on disk."""
        if self._keeping:
            await asyncio.wait(set(self._keeping), timeout=KEEPS_LANDED_TIMEOUT_S)


def find_result(store: BlobStore, key: str) -> dict[str, Any] | None:
    """What an earlier attempt of this run finished with; a damaged blob counts as none."""
    blob = store.get(key)
    if blob is None:
        return None
    try:
        value = json.loads(blob.body.decode("utf-8"))
    except ValueError:
        return None
    return value if is_execute_job_result(value) else None
