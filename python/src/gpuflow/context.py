"""What a handler gets besides its input: ``ctx.progress``, ``ctx.log``, ``ctx.checkpoint``, ``ctx.artifact``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from .blobs import BlobStore
from .payloads import artifact_key
from .protocol import (
    ARTIFACT_NAME_PATTERN,
    CONTENT_TYPE_PATTERN,
    HEARTBEAT_LOG_LINES,
    MAX_ARTIFACTS_PER_JOB,
    MAX_CHECKPOINT_BYTES,
    MAX_LOG_LINE_CHARS,
    MAX_PROGRESS_MESSAGE_CHARS,
    clamp_percent,
)

_NO_CHECKPOINT: Any = object()


class AttemptState:
    """The heartbeat details of one attempt (protocol section 4), safe to change from a handler's thread.

    ``on_change`` is called after each progress report, checkpoint or stored artifact; the worker coalesces the
    calls of one moment into one heartbeat. The previous attempt's checkpoint and artifacts are carried.
    """

    def __init__(
        self,
        *,
        previous: dict[str, Any] | None = None,
        on_change: Callable[[], None] = lambda: None,
        print_line: Callable[[str], None] = print,
    ) -> None:
        self._lock = threading.Lock()
        self.progress: dict[str, Any] | None = None
        self.log: list[str] = []
        self.checkpoint: Any = _NO_CHECKPOINT
        self.artifacts: list[dict[str, Any]] = []
        # The attempt's facts, sent in every heartbeat (protocol section 4); set by the worker when the attempt starts.
        self.attempt_facts: dict[str, Any] | None = None
        if previous is not None:
            if "checkpoint" in previous:
                self.checkpoint = previous["checkpoint"]
            self.artifacts = [dict(artifact) for artifact in previous.get("artifacts", [])]
        self.on_change = on_change
        self.print_line = print_line

    @property
    def has_checkpoint(self) -> bool:
        return self.checkpoint is not _NO_CHECKPOINT

    def details(self) -> dict[str, Any]:
        """The full details object of a heartbeat: a copy, never a diff."""
        with self._lock:
            details: dict[str, Any] = {
                "progress": dict(self.progress) if self.progress is not None else None,
                "log": list(self.log),
            }
            if self.checkpoint is not _NO_CHECKPOINT:
                details["checkpoint"] = self.checkpoint
            if self.artifacts:
                details["artifacts"] = [dict(artifact) for artifact in self.artifacts]
            if self.attempt_facts is not None:
                details["attemptFacts"] = dict(self.attempt_facts)
            return details

    def artifact_list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(artifact) for artifact in self.artifacts]

    def set_progress(self, percent: float, message: str | None) -> dict[str, Any]:
        progress = {
            "percent": clamp_percent(percent),
            "message": None if message is None else str(message)[:MAX_PROGRESS_MESSAGE_CHARS],
        }
        with self._lock:
            self.progress = progress
        self.on_change()
        return progress

    def add_log(self, line: str) -> str:
        kept = line[:MAX_LOG_LINE_CHARS]
        with self._lock:
            self.log = [*self.log, kept][-HEARTBEAT_LOG_LINES:]
        self.print_line(kept)
        return kept

    def set_checkpoint(self, value: Any) -> None:
        try:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise TypeError(f"ctx.checkpoint: the value must be JSON ({err})") from err
        if len(text.encode("utf-8")) > MAX_CHECKPOINT_BYTES:
            raise ValueError(
                f"ctx.checkpoint: at most {MAX_CHECKPOINT_BYTES} bytes of JSON: checkpoint where bulky state is "
                "saved, not the state itself"
            )
        with self._lock:
            self.checkpoint = json.loads(text)
        self.on_change()

    def record_artifact(self, artifact: dict[str, Any]) -> None:
        with self._lock:
            for index, known in enumerate(self.artifacts):
                if known["name"] == artifact["name"]:
                    self.artifacts[index] = artifact
                    break
            else:
                self.artifacts.append(artifact)
        self.on_change()

    def is_listed(self, name: str) -> bool:
        with self._lock:
            return any(artifact["name"] == name for artifact in self.artifacts)


class Context:
    """Handed to every handler call with its input. Its methods may be called from any thread."""

    def __init__(
        self,
        *,
        job_id: str,
        attempt: int,
        worker_id: str,
        resources: Any,
        state: AttemptState,
        store: BlobStore | None,
        cancelled: Callable[[], bool] = lambda: False,
        resume_from: Any = None,
    ) -> None:
        self._job_id = job_id
        self._attempt = attempt
        self._worker_id = worker_id
        self._resources = resources
        self._state = state
        self._store = store
        self._cancelled = cancelled
        self._resume_from = resume_from

    @property
    def job_id(self) -> str:
        return self._job_id

    @property
    def attempt(self) -> int:
        """1 for the first attempt, 2 for the first retry, ..."""
        return self._attempt

    @property
    def worker_id(self) -> str:
        return self._worker_id

    @property
    def resources(self) -> Any:
        """What the job type's ``setup`` returned: loaded once per worker process, shared by its jobs."""
        return self._resources

    @property
    def resume_from(self) -> Any:
        """The last checkpoint of an earlier attempt of this job; ``None`` when there is none."""
        return self._resume_from

    @property
    def cancelled(self) -> bool:
        """True once the job is cancelled, times out, loses its lease or the worker's drain ran out: stop promptly."""
        return self._cancelled()

    def progress(self, percent: float, message: str | None = None) -> None:
        """Reports progress (``percent`` clamped to 0..100); shows in the job's view within about a second."""
        self._state.set_progress(percent, message)

    def log(self, *parts: Any) -> None:
        """A line of output, printed by the worker with the job's id and kept (the newest 20) with the lease."""
        self._state.add_log(" ".join(part if isinstance(part, str) else _as_text(part) for part in parts))

    def checkpoint(self, value: Any) -> None:
        """Saves how far the job got (any JSON, at most 256 KiB). The next attempt, on any worker, gets it as
        ``ctx.resume_from`` if this one fails, times out or its worker dies."""
        self._state.set_checkpoint(value)

    def artifact(
        self, name: str, data: bytes | bytearray | memoryview | str, content_type: str = "application/octet-stream"
    ) -> dict[str, Any]:
        """Stores a file the job produced; ``GET /v1/jobs/:id/artifacts/:name`` serves it. Storing a name again
        replaces the file. Returns ``{"name", "size", "contentType"}``.

        ``name``: ``^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$``. Blocks while the file is written."""
        if not isinstance(name, str) or not ARTIFACT_NAME_PATTERN.match(name):
            raise ValueError(
                f"ctx.artifact: invalid name {name!r}: 1 to 128 characters of A-Z a-z 0-9 . _ -, "
                "not starting with . _ or -"
            )
        if isinstance(data, str):
            body = data.encode("utf-8")
        elif isinstance(data, bytes | bytearray | memoryview):
            body = bytes(data)
        else:
            raise TypeError("ctx.artifact: data must be bytes or a str")
        if not isinstance(content_type, str) or len(content_type) > 255 or not CONTENT_TYPE_PATTERN.match(content_type):
            raise ValueError(f'ctx.artifact: invalid content type {content_type!r}, e.g. "image/png"')
        if not self._state.is_listed(name) and len(self._state.artifact_list()) >= MAX_ARTIFACTS_PER_JOB:
            raise ValueError(f"ctx.artifact: at most {MAX_ARTIFACTS_PER_JOB} artifacts per job")
        if self._store is None:
            raise RuntimeError("ctx.artifact: this worker has no blob store configured")
        self._store.put(artifact_key(self._job_id, name), body, content_type)
        artifact = {"name": name, "size": len(body), "contentType": content_type}
        self._state.record_artifact(artifact)
        return dict(artifact)


def _as_text(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)
