"""Dynamic batching: concurrent attempts of one job type run in one handler call, each still its own job."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .context import Context
from .job import HandlerKind, JobDefinition
from .runner import Cancellation, _in_thread, to_json_value


class BatchContext:
    """What a batch handler gets besides its inputs. Its members may be read from any thread."""

    def __init__(self, *, items: list[Context], resources: Any, worker_id: str, cancelled: Callable[[], bool]) -> None:
        self._items = items
        self._resources = resources
        self._worker_id = worker_id
        self._cancelled = cancelled

    @property
    def items(self) -> list[Context]:
        """One job context per input, in the same order: each job's own ``job_id``, ``attempt``, ``progress``,
        ``log``, ``checkpoint``, ``artifact`` and ``cancelled``, reported on that job's own lease."""
        return list(self._items)

    @property
    def resources(self) -> Any:
        """What the job type's ``setup`` returned: loaded once per worker process, shared by every batch."""
        return self._resources

    @property
    def worker_id(self) -> str:
        return self._worker_id

    @property
    def cancelled(self) -> bool:
        """True once every item is cancelled (or timed out, or drained): stop the batch. An item cancelled alone
        ends cancelled at once (its ``ctx.items[i].cancelled`` turns true); what the handler returns for it is
        dropped."""
        return self._cancelled()


@dataclass
class _Item:
    value: Any
    ctx: Context
    cancellation: Cancellation
    future: asyncio.Future[Any]
    arrived: float = field(default_factory=time.monotonic)


class Batcher:
    """The batches of one batched job type in one worker process. Batches run one at a time (one GPU, one model):
    items that arrive while a batch runs form the next one, which starts when the running one ends if it is full
    or its first item has waited ``max_wait_ms``."""

    def __init__(self, definition: JobDefinition, resources: Any, worker_id: str) -> None:
        if definition.batch is None:
            raise ValueError(f"job type {definition.type} is not batched")
        self._definition = definition
        self._max_size = definition.batch.max_size
        self._max_wait_s = definition.batch.max_wait_ms / 1000
        self._resources = resources
        self._worker_id = worker_id
        self._waiting: list[_Item] = []
        self._running: list[_Item] | None = None
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    async def run(self, value: Any, ctx: Context, cancellation: Cancellation) -> Any:
        """This item's output (JSON), or raises its error. Cancelling the awaiting task (the activity's cancel)
        ends this item at once and sets ``cancellation``, whether it waits for a batch or its batch runs."""
        item = _Item(value, ctx, cancellation, asyncio.get_running_loop().create_future())
        self._waiting.append(item)
        self._consider()
        try:
            return await item.future
        except asyncio.CancelledError:
            cancellation.set()
            if item in self._waiting:
                self._waiting.remove(item)
            # The batch stops only once none of its items still wants a result.
            if self._task is not None and item in (self._running or []) and self._nobody_waits():
                self._task.cancel()
            raise

    def _nobody_waits(self) -> bool:
        return all(item.cancellation.is_set() for item in self._running or [])

    def _consider(self) -> None:
        if self._running is not None or not self._waiting:
            return
        waited = time.monotonic() - self._waiting[0].arrived
        if len(self._waiting) >= self._max_size or waited >= self._max_wait_s:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            items, self._waiting = self._waiting[: self._max_size], self._waiting[self._max_size :]
            self._running = items
            # A context of its own: the batch is no one attempt's, whichever attempt's arrival started it.
            self._task = asyncio.get_running_loop().create_task(self._run_batch(items), context=contextvars.Context())
            return
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._max_wait_s - waited, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._consider()

    async def _run_batch(self, items: list[_Item]) -> None:
        everyone = Cancellation()
        ctx = BatchContext(
            items=[item.ctx for item in items],
            resources=self._resources,
            worker_id=self._worker_id,
            cancelled=lambda: everyone.is_set() or all(item.cancellation.is_set() for item in items),
        )
        values = [item.value for item in items]
        handler = self._definition.handler
        try:
            if self._definition.kind is HandlerKind.ASYNC:
                results = await handler(values, ctx)
            else:
                results = await _in_thread(lambda: handler(values, ctx), everyone, interruptible=True)
            if not isinstance(results, list | tuple) or len(results) != len(items):
                got = f"{len(results)} results" if isinstance(results, list | tuple) else type(results).__name__
                raise TypeError(f"the batch handler of {self._definition.type} returned {got} for {len(items)} inputs")
            for index, (item, result) in enumerate(zip(items, results, strict=True)):
                if isinstance(result, BaseException):
                    _fail(item, result)
                    continue
                try:
                    _succeed(item, to_json_value(result, f"the batch handler's output for item {index}"))
                except TypeError as err:
                    _fail(item, err)
        except asyncio.CancelledError:
            everyone.set()
        except Exception as err:
            for item in items:
                _fail(item, err)
        finally:
            self._running = None
            self._task = None
            self._consider()


def _succeed(item: _Item, output: Any) -> None:
    if not item.future.done():
        item.future.set_result(output)


def _fail(item: _Item, err: BaseException) -> None:
    if not item.future.done():
        item.future.set_exception(err)


class Batchers:
    """The batchers of one worker process: one per batched job type, made when its first item comes."""

    def __init__(self, worker_id: str) -> None:
        self._worker_id = worker_id
        self._batchers: dict[str, Batcher] = {}

    async def run(
        self, definition: JobDefinition, resources: Any, value: Any, ctx: Context, cancellation: Cancellation
    ) -> Any:
        batcher = self._batchers.get(definition.type)
        if batcher is None:
            batcher = self._batchers[definition.type] = Batcher(definition, resources, self._worker_id)
        return await batcher.run(value, ctx, cancellation)


def check_batch_capacity(definitions: Sequence[JobDefinition], capacity: int) -> None:
    """Refuses a worker whose slots could never fill a batch: each item of a batch holds one of its type's slots
    while the batch runs, so a type's capacity must be at least its ``batch.max_size``."""
    short = [
        definition
        for definition in definitions
        if definition.batch is not None and definition.batch.max_size > (definition.capacity or capacity)
    ]
    if not short:
        return
    which = ", ".join(f"{d.type} (batch max_size {d.batch.max_size})" for d in short if d.batch is not None)
    raise ValueError(
        f"worker capacity {capacity} can never fill a batch of {which}: every item of a batch holds one of its "
        "type's slots, so raise the capacity (--capacity) to at least max_size (twice it lets the next batch fill "
        "while one runs) or lower max_size"
    )
