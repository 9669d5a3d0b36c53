"""Drives a handler of any kind, with or without Temporal: sync functions and generators in a thread (a long CUDA
call never blocks the worker's loop, which renews the lease), coroutines and async generators on the loop, stream
chunks batched as protocol section 9 says."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import ctypes
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from pydantic import BaseModel

from .errors import JobError, ProtocolFailure
from .job import HandlerKind, JobDefinition
from .payloads import to_json_bytes
from .protocol import (
    STREAM_FLUSH_INTERVAL_S,
    STREAM_MAX_BATCH_BYTES,
    STREAM_MAX_BATCHES_PER_RUN,
    STREAM_MAX_BYTES_PER_RUN,
    STREAM_MAX_CHUNK_BYTES,
    FailureTypes,
)

T = TypeVar("T")
SendBatch = Callable[[list[Any]], Awaitable[None]]

#: A sync handler that has not returned this long after its cancel gets ``asyncio.CancelledError`` raised in its
#: thread (at its next Python bytecode: a call inside a C extension finishes first).
INTERRUPT_AFTER_S = 2.0


class Cancellation:
    """Set when the attempt must stop; what ``ctx.cancelled`` reads, from any thread."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


def to_json_value(value: Any, what: str) -> Any:
    """``value`` as plain JSON (a pydantic model is dumped); what is no JSON fails the attempt with a TypeError."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    try:
        return json.loads(to_json_bytes(value))
    except (TypeError, ValueError) as err:
        raise TypeError(f"{what} is not JSON: {err}") from err


async def _in_thread(call: Callable[[], T], cancellation: Cancellation, interruptible: bool) -> T:
    """Runs ``call`` in a thread of its own. When the awaiting task is cancelled, sets ``cancellation`` and still
    waits for the thread (the GPU is only free once it returns), interrupting it after ``INTERRUPT_AFTER_S``."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()
    context = contextvars.copy_context()

    def run() -> None:
        try:
            future.set_result(context.run(call))
        except BaseException as err:
            future.set_exception(err)

    thread = threading.Thread(target=run, name="gpuflow-handler", daemon=True)
    thread.start()
    waiting = asyncio.wrap_future(future)
    try:
        return await asyncio.shield(waiting)
    except asyncio.CancelledError:
        cancellation.set()
        deadline = time.monotonic() + INTERRUPT_AFTER_S
        interrupted = False
        while not future.done():
            await asyncio.wait({waiting}, timeout=0.05)
            if interruptible and not interrupted and not future.done() and time.monotonic() >= deadline:
                interrupted = True
                _raise_in_thread(thread, asyncio.CancelledError)
        raise


def _raise_in_thread(thread: threading.Thread, error: type[BaseException]) -> None:
    """Python's own interrupt of a thread (what the Temporal SDK does for its sync activities)."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(error))


async def run_handler(
    definition: JobDefinition,
    value: Any,
    ctx: Any,
    *,
    cancellation: Cancellation,
    send: SendBatch,
    attempt: int,
    on_capped: Callable[[str], None] = lambda why: None,
) -> Any:
    """The handler's output as JSON (for an aggregating stream, the list of chunks). Cancelling the awaiting task
    stops the handler: ``asyncio.CancelledError`` inside a coroutine, ``ctx.cancelled`` in a thread."""
    handler = definition.handler
    kind = definition.kind
    try:
        if kind is HandlerKind.SYNC:
            output = await _in_thread(lambda: handler(value, ctx), cancellation, interruptible=True)
        elif kind is HandlerKind.ASYNC:
            output = await handler(value, ctx)
        elif kind is HandlerKind.GENERATOR:
            output = await _drain_sync(handler(value, ctx), definition, cancellation, send, attempt, on_capped)
        else:
            output = await _drain_async(handler(value, ctx), definition, cancellation, send, attempt, on_capped)
    except asyncio.CancelledError:
        cancellation.set()
        raise
    output = to_json_value(output, "the handler's output")
    if definition.error_result is not None:
        message = definition.error_result(output)
        if message is not None:
            raise JobError(message, retryable=False)
    return output


_DONE: Any = object()


async def _drain_sync(
    generator: Iterator[Any],
    definition: JobDefinition,
    cancellation: Cancellation,
    send: SendBatch,
    attempt: int,
    on_capped: Callable[[str], None],
) -> Any:
    batches = Batcher(send, attempt, on_capped)
    chunks: list[Any] = []
    returned: list[Any] = [None]

    def step() -> Any:
        try:
            return next(generator)
        except StopIteration as stop:
            returned[0] = stop.value
            return _DONE

    try:
        while True:
            chunk = await _in_thread(step, cancellation, interruptible=False)
            if chunk is _DONE:
                await batches.close()
                return chunks if definition.aggregate_stream else returned[0]
            chunk = to_json_value(chunk, "a stream chunk")
            if definition.aggregate_stream:
                chunks.append(chunk)
            await batches.push(chunk)
            # A generator that ignores its cancel is stopped at its next yield.
            if cancellation.is_set():
                raise asyncio.CancelledError()
    except BaseException:
        batches.cancel()
        # Its finally (a GPU lock, a temp file) runs, whether it was refused a chunk or cancelled.
        await asyncio.shield(asyncio.to_thread(_close_quietly, generator))
        raise


def _close_quietly(generator: Any) -> None:
    with contextlib.suppress(Exception):
        generator.close()


async def _drain_async(
    generator: Any,
    definition: JobDefinition,
    cancellation: Cancellation,
    send: SendBatch,
    attempt: int,
    on_capped: Callable[[str], None],
) -> Any:
    batches = Batcher(send, attempt, on_capped)
    chunks: list[Any] = []
    try:
        while True:
            try:
                chunk = await generator.__anext__()
            except StopAsyncIteration:
                await batches.close()
                return chunks if definition.aggregate_stream else None
            chunk = to_json_value(chunk, "a stream chunk")
            if definition.aggregate_stream:
                chunks.append(chunk)
            await batches.push(chunk)
            if cancellation.is_set():
                raise asyncio.CancelledError()
    except BaseException:
        batches.cancel()
        with contextlib.suppress(BaseException):
            await generator.aclose()
        raise


class Batcher:
    """At most one batch every 250 ms (a chunk waits at most that long), sooner only when 256 KiB are pending (then
    the generator waits for the send: backpressure); batches go one at a time, in order; attempt ``n`` streams live
    within ``1/2^n`` of the run's budget."""

    def __init__(self, send: SendBatch, attempt: int, on_capped: Callable[[str], None]) -> None:
        self._send = send
        self._attempt = attempt
        self._on_capped = on_capped
        share = 2 ** max(1, attempt)
        self._max_batches = STREAM_MAX_BATCHES_PER_RUN // share
        self._max_bytes = STREAM_MAX_BYTES_PER_RUN // share
        self._pending: list[Any] = []
        self._pending_bytes = 0
        self._sent_batches = 0
        self._sent_bytes = 0
        self._capped = False
        self._cancelled = False
        self._last_send = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._sending: asyncio.Future[None] | None = None

    async def push(self, chunk: Any) -> None:
        size = len(to_json_bytes(chunk))
        if size > STREAM_MAX_CHUNK_BYTES:
            raise ProtocolFailure(
                f"a stream chunk of {size} bytes is over the {STREAM_MAX_CHUNK_BYTES}-byte limit: yield smaller chunks",
                FailureTypes.stream_chunk_too_large,
            )
        if self._capped:
            return
        if self._sent_batches >= self._max_batches or self._sent_bytes + self._pending_bytes + size > self._max_bytes:
            self._capped = True
            self._on_capped(
                f"attempt {self._attempt}'s stream passed its share of the run's budget ({self._max_batches} batches, "
                f"{self._max_bytes} bytes): later chunks are not streamed live"
            )
            return
        self._pending.append(chunk)
        self._pending_bytes += size
        if self._pending_bytes >= STREAM_MAX_BATCH_BYTES:
            await self._flush()
        elif self._timer is None:
            delay = max(0.0, self._last_send + STREAM_FLUSH_INTERVAL_S - time.monotonic())
            self._timer = asyncio.get_running_loop().call_later(delay, self._flush)

    def _flush(self) -> asyncio.Future[None]:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return self._sending or _done_future()
        batch, size = self._pending, self._pending_bytes
        self._pending, self._pending_bytes = [], 0
        previous = self._sending

        async def send() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            wait = self._last_send + STREAM_FLUSH_INTERVAL_S - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            # An attempt that has ended sends nothing more, not even a batch waiting for its turn.
            if self._cancelled:
                return
            self._last_send = time.monotonic()
            self._sent_batches += 1
            self._sent_bytes += size
            await self._send(batch)

        self._sending = asyncio.ensure_future(send())
        return self._sending

    async def close(self) -> None:
        """Sends every pending chunk and waits until all are sent."""
        await self._flush()

    def cancel(self) -> None:
        self._cancelled = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending = []


def _done_future() -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future
