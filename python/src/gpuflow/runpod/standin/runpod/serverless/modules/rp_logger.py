"""`RunPodLogger`: RunPod's leveled logger (`debug`/`info`/`warn`/`error`, optional job id), printing to stdout."""

from __future__ import annotations

import os


class RunPodLogger:
    LEVELS = ("NOTSET", "TRACE", "DEBUG", "INFO", "WARN", "ERROR")

    def __init__(self) -> None:
        level = os.environ.get("RUNPOD_LOG_LEVEL", "DEBUG").upper()
        self.level = self.LEVELS.index(level) if level in self.LEVELS else self.LEVELS.index("DEBUG")

    def log(self, message: object, level: str = "INFO", job_id: str | None = None) -> None:
        if self.LEVELS.index(level) < self.level:
            return
        prefix = f"{job_id} | " if job_id else ""
        print(f"{level.ljust(7)}| {prefix}{message}", flush=True)

    def trace(self, message: object, request_id: str | None = None) -> None:
        self.log(message, "TRACE", request_id)

    def debug(self, message: object, request_id: str | None = None) -> None:
        self.log(message, "DEBUG", request_id)

    def info(self, message: object, request_id: str | None = None) -> None:
        self.log(message, "INFO", request_id)

    def warn(self, message: object, request_id: str | None = None) -> None:
        self.log(message, "WARN", request_id)

    def error(self, message: object, request_id: str | None = None) -> None:
        self.log(message, "ERROR", request_id)
