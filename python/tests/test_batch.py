"""The batcher and the batch settings, without a server (the real-Temporal checks: test/integration)."""

import asyncio
import threading
import time
from typing import Any

import pytest

import gpuflow
from gpuflow.batch import Batcher, check_batch_capacity
from gpuflow.context import AttemptState, Context
from gpuflow.runner import Cancellation


def item(job_id: str) -> tuple[Context, Cancellation]:
    cancellation = Cancellation()
    ctx = Context(
        job_id=job_id,
        attempt=1,
        worker_id="w",
        resources=None,
        state=AttemptState(print_line=lambda line: None),
        store=None,
        cancelled=cancellation.is_set,
    )
    return ctx, cancellation


async def run(batcher: Batcher, value: Any, job_id: str) -> Any:
    ctx, cancellation = item(job_id)
    return await batcher.run(value, ctx, cancellation)


async def test_splits_into_batches_of_max_size_run_one_at_a_time() -> None:
    sizes: list[int] = []
    running = [0]

    @gpuflow.job("double", batch=gpuflow.Batch(max_size=3, max_wait_ms=10))
    async def double(inputs: list[int], ctx: gpuflow.BatchContext) -> list[int]:
        running[0] += 1
        assert running[0] == 1
        sizes.append(len(inputs))
        await asyncio.sleep(0.005)
        running[0] -= 1
        return [n * 2 for n in inputs]

    batcher = Batcher(double, None, "w")
    outputs = await asyncio.gather(*(run(batcher, n, f"j{n}") for n in range(1, 8)))
    assert outputs == [2, 4, 6, 8, 10, 12, 14]
    assert sizes == [3, 3, 1]


async def test_an_exception_entry_fails_its_item_alone_and_a_sync_handler_runs_in_a_thread() -> None:
    threads: list[str] = []

    @gpuflow.job("picky", batch=gpuflow.Batch(max_size=3, max_wait_ms=50))
    def picky(inputs: list[int], ctx: gpuflow.BatchContext) -> list[Any]:
        threads.append(threading.current_thread().name)
        return [gpuflow.JobError("odd", retryable=False) if n % 2 else {"n": n} for n in inputs]

    batcher = Batcher(picky, None, "w")
    results = await asyncio.gather(*(run(batcher, n, f"j{n}") for n in (1, 2, 4)), return_exceptions=True)
    assert isinstance(results[0], gpuflow.JobError)
    assert results[1:] == [{"n": 2}, {"n": 4}]
    assert threads == ["gpuflow-handler"]


async def test_a_cancelled_item_ends_at_once_and_the_batch_is_cancelled_only_with_every_item() -> None:
    seen: list[gpuflow.BatchContext] = []

    @gpuflow.job("slow", batch=gpuflow.Batch(max_size=2, max_wait_ms=1000))
    def slow(inputs: list[int], ctx: gpuflow.BatchContext) -> list[int]:
        seen.append(ctx)
        while not ctx.cancelled:
            time.sleep(0.01)
        return inputs

    batcher = Batcher(slow, None, "w")
    (ctx_a, cancel_a), (ctx_b, cancel_b) = item("a"), item("b")
    a = asyncio.create_task(batcher.run(1, ctx_a, cancel_a))
    b = asyncio.create_task(batcher.run(2, ctx_b, cancel_b))
    while not seen:
        await asyncio.sleep(0.01)
    a.cancel()
    with pytest.raises(asyncio.CancelledError):
        await a
    assert ctx_a.cancelled and not ctx_b.cancelled and not seen[0].cancelled
    b.cancel()
    with pytest.raises(asyncio.CancelledError):
        await b
    for _ in range(100):
        if seen[0].cancelled:
            break
        await asyncio.sleep(0.01)
    assert seen[0].cancelled


async def test_a_wrong_number_of_results_fails_every_item() -> None:
    @gpuflow.job("short", batch=gpuflow.Batch(max_size=2, max_wait_ms=50))
    async def short(inputs: list[int], ctx: gpuflow.BatchContext) -> list[int]:
        return [1]

    batcher = Batcher(short, None, "w")
    results = await asyncio.gather(run(batcher, 1, "a"), run(batcher, 2, "b"), return_exceptions=True)
    assert [str(result) for result in results] == ["the batch handler of short returned 1 results for 2 inputs"] * 2


def test_settings_and_capacity_are_checked() -> None:
    with pytest.raises(ValueError, match="max_size must be an integer from 1 to 1024"):
        gpuflow.Batch(max_size=0, max_wait_ms=5)
    with pytest.raises(TypeError, match="a batch handler does not stream"):

        @gpuflow.job("gen", batch=gpuflow.Batch(max_size=2, max_wait_ms=5))
        def gen(inputs: list[int], ctx: gpuflow.BatchContext) -> Any:
            yield 1

    @gpuflow.job("eight", batch=gpuflow.Batch(max_size=8, max_wait_ms=5))
    def eight(inputs: list[int], ctx: gpuflow.BatchContext) -> list[int]:
        return inputs

    check_batch_capacity([eight], 8)
    with pytest.raises(ValueError, match=r"worker capacity 4 can never fill a batch of eight \(batch max_size 8\)"):
        check_batch_capacity([eight], 4)
