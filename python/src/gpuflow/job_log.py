"""A job's console output, kept in the blob store: one bounded JSON Lines blob per attempt (PROTOCOL.md, "Job logs").

The same layout as the TypeScript ``JobLogWriter`` (activities/job-log-writer.ts): key ``logs/<jobId>/<attempt>.jsonl``,
lines ``{"attempt", "at", "line"}``, the first and the newest lines kept past the bound.
"""

from __future__ import annotations

import asyncio
import json
import threading
import traceback
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from .blobs import BlobStore
from .protocol import MAX_LOG_LINE_CHARS

#: Content type of a job log blob.
JOB_LOG_CONTENT_TYPE = "application/x-ndjson"
#: Largest log of one attempt, bytes (``GPUFLOW_MAX_JOB_LOG_BYTES``).
MAX_JOB_LOG_BYTES = 1024 * 1024
#: The smallest bound a writer accepts.
MIN_JOB_LOG_BYTES = 4 * 1024
_DROPPED_LINE_BYTES = 160


def job_log_key(job_id: str, attempt: int) -> str:
    return f"logs/{job_id}/{attempt}.jsonl"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class JobLogWriter:
    """The log of one attempt, in memory, written whole (``put`` replaces atomically) when it has new lines.

    Thread-safe: a sync handler logs from its own thread. Call :meth:`flush` once more when the attempt ends.
    """

    def __init__(self, store: BlobStore, job_id: str, attempt: int, *, max_bytes: int = MAX_JOB_LOG_BYTES) -> None:
        self.store = store
        self.key = job_log_key(job_id, attempt)
        self.attempt = attempt
        self.max_bytes = max(MIN_JOB_LOG_BYTES, max_bytes)
        self._half = (self.max_bytes - _DROPPED_LINE_BYTES) // 2
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._head: list[str] = []
        self._head_bytes = 0
        self._tail: deque[str] = deque()
        self._tail_bytes = 0
        self._dropped = 0
        self._dirty = False

    def append(self, line: str, at: datetime | None = None) -> None:
        entry = {"attempt": self.attempt, "at": _iso(at or datetime.now(UTC)), "line": line[:MAX_LOG_LINE_CHARS]}
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        size = len(text.encode("utf-8")) + 1
        with self._lock:
            if not self._tail and self._head_bytes + size <= self._half:
                self._head.append(text)
                self._head_bytes += size
            else:
                self._tail.append(text)
                self._tail_bytes += size
                while self._tail_bytes > self._half and len(self._tail) > 1:
                    self._tail_bytes -= len(self._tail.popleft().encode("utf-8")) + 1
                    self._dropped += 1
            self._dirty = True

    def append_text(self, text: str) -> None:
        """Console output: one line per line of ``text`` (a final newline adds no empty line)."""
        lines = text.splitlines()
        for line in lines:
            self.append(line)

    def append_failure(self, err: BaseException) -> None:
        """A failed attempt: ``attempt failed: <type>: <message>`` and the stack trace (with its causes)."""
        kind = getattr(err, "type", None) or type(err).__name__
        self.append(f"attempt failed: {kind}: {err}")
        for line in traceback.format_exception(err):
            self.append_text(line.rstrip("\n"))

    @property
    def empty(self) -> bool:
        """No line was ever appended: nothing was or will be written."""
        with self._lock:
            return not self._head and not self._tail and not self._dropped

    def flush(self) -> None:
        """Writes the blob if it has lines not yet written (blocking: call it in a thread from the loop)."""
        with self._write_lock:
            with self._lock:
                if not self._dirty:
                    return
                self._dirty = False
                body = self._body()
            try:
                self.store.put(self.key, body, JOB_LOG_CONTENT_TYPE)
            except BaseException:
                with self._lock:
                    self._dirty = True
                raise

    async def flush_every(self, period_s: float) -> None:
        """Flushes at most once per ``period_s`` until cancelled (a failed write is retried at the next one)."""
        while True:
            await asyncio.sleep(period_s)
            try:
                await asyncio.to_thread(self.flush)
            except Exception:
                continue  # best effort: the final flush reports

    def _body(self) -> bytes:
        lines = list(self._head)
        if self._dropped:
            first = json.loads(self._tail[0])["at"] if self._tail else _iso(datetime.now(UTC))
            line = f"… {self._dropped} lines dropped (log over {self.max_bytes} bytes)"
            lines.append(json.dumps({"attempt": self.attempt, "at": first, "line": line}, ensure_ascii=False))
        lines.extend(self._tail)
        return "".join(f"{line}\n" for line in lines).encode("utf-8")


#: Longest the end of an attempt waits for its log's last write, seconds.
FINAL_FLUSH_TIMEOUT_S = 5.0


class AttemptLog:
    """What an attempt does with its log: lines, the failure, a write per period, the last write at the end.

    Without a store it does nothing. A write that fails is told once (the job goes on without its log).
    """

    def __init__(
        self, store: BlobStore | None, job_id: str, attempt: int, *, max_bytes: int, warn: Callable[[str], None]
    ) -> None:
        self.writer = JobLogWriter(store, job_id, attempt, max_bytes=max_bytes) if store is not None else None
        self._warn = warn
        self._task: asyncio.Task[None] | None = None

    def line(self, text: str) -> None:
        if self.writer is not None:
            self.writer.append(text)

    def failed(self, err: BaseException) -> None:
        if self.writer is not None:
            self.writer.append_failure(err)

    def start(self, period_s: float) -> None:
        if self.writer is not None:
            self._task = asyncio.create_task(self.writer.flush_every(period_s))

    async def close(self) -> None:
        """The last write, before the attempt's end is reported; bounded, never raises."""
        if self._task is not None:
            self._task.cancel()
        # An attempt that logged nothing has nothing to write: no thread hop (a few ms on a busy machine, per job).
        if self.writer is None or self.writer.empty:
            return
        try:
            await asyncio.wait_for(asyncio.to_thread(self.writer.flush), FINAL_FLUSH_TIMEOUT_S)
        except Exception as err:  # a timeout too
            self._warn(f"could not write the job's log: {err or type(err).__name__}")
