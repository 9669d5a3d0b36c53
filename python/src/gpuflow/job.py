"""Declaring job types: ``@gpuflow.job("type", input=Model, setup=load)``."""

from __future__ import annotations

import builtins
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

JOB_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
MAX_BATCH_SIZE = 1024
MAX_BATCH_WAIT_MS = 60_000


@dataclass(frozen=True)
class Batch:
    """How a worker groups concurrent attempts of one job type into one handler call.

    Args:
        max_size: most items per handler call, 1 to 1024. A worker's capacity for the type must be at least this,
            or no batch could ever fill; twice this lets the next batch fill while one runs.
        max_wait_ms: how long the first item of a batch waits for more before the handler runs with what there
            is, in ms, 0 to 60000. A lone job starts this much later than it would unbatched.
    """

    max_size: int
    max_wait_ms: float

    def __post_init__(self) -> None:
        size = self.max_size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_BATCH_SIZE:
            raise ValueError(f"gpuflow.Batch: max_size must be an integer from 1 to {MAX_BATCH_SIZE}")
        wait = self.max_wait_ms
        if isinstance(wait, bool) or not isinstance(wait, int | float) or not 0 <= wait <= MAX_BATCH_WAIT_MS:
            raise ValueError(f"gpuflow.Batch: max_wait_ms must be a number of ms from 0 to {MAX_BATCH_WAIT_MS}")


class HandlerKind(Enum):
    """How the worker drives a handler. Sync kinds run in a thread, so they never block the lease renewal."""

    SYNC = "sync"
    ASYNC = "async"
    GENERATOR = "generator"
    ASYNC_GENERATOR = "async generator"


@dataclass(frozen=True)
class JobDefinition:
    """A job type a worker serves: made by :func:`job`, collected from handler files by ``load_modules``."""

    type: str
    handler: Callable[..., Any]
    input_model: builtins.type[BaseModel] | None = None
    setup: Callable[[], Any] | None = None
    aggregate_stream: bool = False
    #: Jobs of this type one process runs at once, when the definition asks for it (RunPod ``concurrency_modifier``).
    capacity: int | None = None
    #: The worker process exits 0 after each job of this type, so that its supervisor restarts it.
    refresh_after_job: bool = False
    #: Given the handler's return value, the error message when it denotes a failed job (else ``None``).
    error_result: Callable[[Any], str | None] | None = None
    #: Set: the handler takes a list of inputs and a ``BatchContext`` and returns one result per input.
    batch: Batch | None = None

    @property
    def kind(self) -> HandlerKind:
        return handler_kind(self.handler)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The decorated function still works as a plain function (in tests, in other code)."""
        return self.handler(*args, **kwargs)


def handler_kind(handler: Callable[..., Any]) -> HandlerKind:
    if inspect.isasyncgenfunction(handler):
        return HandlerKind.ASYNC_GENERATOR
    if inspect.isgeneratorfunction(handler):
        return HandlerKind.GENERATOR
    if inspect.iscoroutinefunction(handler):
        return HandlerKind.ASYNC
    return HandlerKind.SYNC


def check_job_type(type: str) -> str:
    if not isinstance(type, str) or not JOB_TYPE_PATTERN.match(type):
        raise ValueError(
            f"gpuflow.job: invalid job type {type!r}: 1 to 63 characters of a-z 0-9 -, starting with a letter"
        )
    return type


def job(
    type: str,
    *,
    input: builtins.type[BaseModel] | None = None,
    setup: Callable[[], Any] | None = None,
    aggregate_stream: bool = False,
    batch: Batch | None = None,
) -> Callable[[Callable[..., Any]], JobDefinition]:
    """Declares a job type served by ``gpuflow-worker``.

    Args:
        type: the job type, ``^[a-z][a-z0-9-]{0,62}$``; workers poll the task queue ``jobs.<type>``.
        input: a pydantic model the input is validated into before the handler runs; an input that does not fit
            fails the job at once, not retried (``ValidationError``). ``None``: the handler gets the JSON as is.
        setup: runs once per worker process before it takes jobs (model loading, the cold start); what it returns
            is ``ctx.resources`` in every job. May be ``async``.
        aggregate_stream: for a generator handler, make the job's output the list of every chunk it yielded
            instead of its return value. Default ``False``.
        batch: collect up to ``batch.max_size`` concurrent attempts of this type for at most ``batch.max_wait_ms``
            and call the handler once: ``handler(inputs, ctx: gpuflow.BatchContext)`` returns a list with one
            result per input, in order: an output, or an exception instance (a ``JobError``, say) that fails that
            job alone. Each job keeps its own status, progress, lease, retries and cancel. Default ``None``.

    The handler is ``handler(input, ctx)``: a function, an ``async def``, a generator or an async generator (each
    ``yield`` streams a chunk to clients while the job runs).
    """
    check_job_type(type)
    if input is not None and not (isinstance(input, builtins.type) and issubclass(input, BaseModel)):
        raise TypeError("gpuflow.job: input must be a pydantic BaseModel subclass or None")
    if setup is not None and not callable(setup):
        raise TypeError("gpuflow.job: setup must be callable")
    if batch is not None and not isinstance(batch, Batch):
        raise TypeError("gpuflow.job: batch must be a gpuflow.Batch(max_size=..., max_wait_ms=...)")
    if batch is not None and aggregate_stream:
        raise TypeError("gpuflow.job: a batch handler does not stream: aggregate_stream does not apply")

    def decorate(handler: Callable[..., Any]) -> JobDefinition:
        if not callable(handler):
            raise TypeError("gpuflow.job: the handler must be a function")
        if batch is not None and handler_kind(handler) not in (HandlerKind.SYNC, HandlerKind.ASYNC):
            raise TypeError("gpuflow.job: a batch handler does not stream: make it a function or an async def")
        return JobDefinition(
            type=type, handler=handler, input_model=input, setup=setup, aggregate_stream=aggregate_stream, batch=batch
        )

    return decorate
