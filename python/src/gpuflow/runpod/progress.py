"""`runpod.serverless.progress_update(job, progress)` → the running job's `Context.progress`.

RunPod's progress is any JSON value (`{"percent": 50}`, `"4/10"`, `42`); gpuflow's is a percent and a message.
A number is the percent; a dict's numeric `percent` or `progress` is the percent; `"n/m"` and `"n%"` strings give
the percent they say. The message is the value itself when it is a string, else its JSON, so that a RunPod-facing
view can show the value the handler sent. A value that names no percent keeps the job's last one.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from gpuflow import Context

_lock = threading.Lock()
_running: dict[str, Context] = {}
_last_percent: dict[str, float] = {}

_FRACTION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def register(job_id: str, ctx: Context) -> None:
    with _lock:
        _running[job_id] = ctx
        _last_percent[job_id] = 0.0


def unregister(job_id: str) -> None:
    with _lock:
        _running.pop(job_id, None)
        _last_percent.pop(job_id, None)


def percent_of(progress: Any) -> float | None:
    """The percent a RunPod progress value names, or None."""
    if isinstance(progress, bool):
        return None
    if isinstance(progress, (int, float)):
        return float(progress)
    if isinstance(progress, dict):
        for key in ("percent", "progress"):
            value = progress.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            if isinstance(value, str):
                return percent_of(value)
        return None
    if isinstance(progress, str):
        fraction = _FRACTION.match(progress)
        if fraction and float(fraction.group(2)) > 0:
            return float(fraction.group(1)) / float(fraction.group(2)) * 100
        percent = _PERCENT.match(progress)
        if percent:
            return float(percent.group(1))
    return None


def message_of(progress: Any) -> str | None:
    if progress is None or (isinstance(progress, (int, float)) and not isinstance(progress, bool)):
        return None
    if isinstance(progress, str):
        return progress
    return json.dumps(progress, default=str)


def progress_update(job: dict[str, Any], progress: Any) -> None:
    """Reports `progress` for `job` (the dict the handler got) through its gpuflow Context.

    Outside a gpuflow job (an id no running job has) it does nothing, as RunPod's does without a server.
    """
    job_id = job.get("id") if isinstance(job, dict) else None
    with _lock:
        ctx = _running.get(job_id) if isinstance(job_id, str) else None
        if ctx is None or not isinstance(job_id, str):
            return
        percent = percent_of(progress)
        if percent is None:
            percent = _last_percent.get(job_id, 0.0)
        _last_percent[job_id] = percent
    ctx.progress(max(0.0, min(100.0, percent)), message_of(progress))
