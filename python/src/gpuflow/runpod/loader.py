"""`load(path, type)`: an unmodified RunPod Serverless handler file as a gpuflow `JobDefinition`."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import json
import os
import re
import runpy
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from gpuflow import Context, JobDefinition, JobError
from gpuflow.runpod import progress

RUNPOD_FIELDS_KEY = "$runpod"
"""A gpuflow job's input is RunPod's `input`. RunPod's other job fields (`s3Config`, `webhook`) travel, when a job
has them, as an object under this key of the input: `{"prompt": "hi", "$runpod": {"s3Config": {...}}}`. The key is
taken out of `input` and its fields are put beside it, so the handler gets `{"id", "input", "s3Config"}` as on
RunPod."""

PASSED_FIELDS = ("s3Config", "webhook", "policy")

_TYPE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_STANDIN_PATH = str(Path(__file__).parent / "standin")


class _StartCalled(BaseException):
    """Raised by the replaced `runpod.serverless.start`: RunPod's never returns either, so nothing after it runs.
    A BaseException, so that a file's `except Exception` around `start` does not swallow it."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__("runpod.serverless.start")
        self.config = config


class RunpodHandlerError(Exception):
    """The file is not a RunPod handler gpuflow can run (no `start` call, no handler, a bad type)."""


def load(path: str | os.PathLike[str], type: str) -> JobDefinition:
    """Runs the RunPod handler file at `path` as `python handler.py` would and returns its handler as job `type`.

    The file's module-level code (model loading: RunPod's cold start) runs here, once per worker process.
    """
    if not _TYPE.match(type):
        raise RunpodHandlerError(f"job type {type!r} must match {_TYPE.pattern}")
    file = Path(path).resolve()
    if not file.is_file():
        raise RunpodHandlerError(f"no such handler file: {file}")
    serverless = _import_runpod_serverless()

    def start(config: dict[str, Any]) -> None:
        raise _StartCalled(config)

    serverless.start = start
    saved_argv = sys.argv
    sys.argv = [str(file)]
    sys.path.insert(0, str(file.parent))
    try:
        runpy.run_path(str(file), run_name="__main__")
    except _StartCalled as called:
        config = called.config
    else:
        raise RunpodHandlerError(f"{file} ended without calling runpod.serverless.start({{'handler': ...}})")
    finally:
        # The file's directory stays on sys.path, as with `python handler.py`: a lazy `import helpers` inside the
        # handler still finds its sibling module.
        sys.argv = saved_argv
    return definition_of(config, type, source=str(file))


def definition_of(config: dict[str, Any], type: str, *, source: str = "<config>") -> JobDefinition:
    """The JobDefinition for a `runpod.serverless.start` config."""
    if not isinstance(config, dict) or not callable(config.get("handler")):
        raise RunpodHandlerError(f"{source}: runpod.serverless.start needs a config with a callable 'handler'")
    handler: Callable[..., Any] = config["handler"]
    capacity = None
    modifier = config.get("concurrency_modifier")
    if callable(modifier):
        # RunPod asks before every take, starting from 1; gpuflow's capacity is fixed per process: ask once.
        wanted = modifier(1)
        if not isinstance(wanted, int) or isinstance(wanted, bool) or wanted < 1:
            raise RunpodHandlerError(f"{source}: concurrency_modifier(1) returned {wanted!r}, not an int >= 1")
        capacity = wanted
    holder: list[JobDefinition] = []
    wrapped = _wrap(handler, holder)
    definition = JobDefinition(
        type=type,
        handler=wrapped,
        input_model=None,
        setup=None,
        aggregate_stream=bool(config.get("return_aggregate_stream", False)),
        capacity=capacity,
        refresh_after_job=bool(config.get("refresh_worker", False)),
        error_result=error_result,
    )
    holder.append(definition)
    return definition


def job_of(input: Any, ctx: Context) -> dict[str, Any]:
    """The dict a RunPod handler gets: `{"id", "input"}` plus the RunPod fields the gpuflow input carries."""
    job: dict[str, Any] = {"id": ctx.job_id}
    if isinstance(input, dict) and isinstance(input.get(RUNPOD_FIELDS_KEY), dict):
        fields = input[RUNPOD_FIELDS_KEY]
        input = {key: value for key, value in input.items() if key != RUNPOD_FIELDS_KEY}
        job.update({key: fields[key] for key in PASSED_FIELDS if key in fields})
    job["input"] = input
    return job


def error_result(result: Any) -> str | None:
    """RunPod's semantics: a returned dict with a truthy `error` is a failed job (not retried)."""
    if isinstance(result, dict) and result.get("error"):
        error = result["error"]
        return error if isinstance(error, str) else json.dumps(error, default=str)
    return None


def _output_of(result: Any, holder: list[JobDefinition]) -> Any:
    """What RunPod makes of a returned value: `refresh_worker` and a falsy `error` are taken out; `{}` is no output."""
    if not isinstance(result, dict):
        return result
    output = dict(result)
    if output.pop("refresh_worker", False):
        _refresh_after_this_job(holder)
    if "error" in output and not output["error"]:
        del output["error"]
    return output or None


def _refresh_after_this_job(holder: list[JobDefinition]) -> None:
    # A returned {"refresh_worker": True} asks for a fresh process after this job only. The definition is frozen and
    # its flag is read by the worker when the job ends, so it is set on it here: from now on the process exits after
    # each job, which for this one is what RunPod does (stopPod), and the process is gone after it anyway.
    if holder:
        object.__setattr__(holder[0], "refresh_after_job", True)


def _chunk_error(chunk: Any) -> None:
    # RunPod does not stream a yielded {"error": x}: it ends the job FAILED with str(x).
    if isinstance(chunk, dict) and chunk.get("error"):
        raise JobError(str(chunk["error"]), retryable=False, type="RunpodHandlerError")


def _wrap(handler: Callable[..., Any], holder: list[JobDefinition]) -> Callable[..., Any]:
    """A gpuflow handler of the same kind as `handler` (the worker tells the kinds apart with `inspect`)."""
    if inspect.isasyncgenfunction(handler):

        async def run_async_generator(input: Any, ctx: Context) -> AsyncIterator[Any]:
            job = job_of(input, ctx)
            progress.register(ctx.job_id, ctx)
            chunks = handler(job)
            try:
                async for chunk in chunks:
                    _chunk_error(chunk)
                    yield chunk
            finally:
                progress.unregister(ctx.job_id)
                await chunks.aclose()

        return run_async_generator

    if inspect.isgeneratorfunction(handler):

        def run_generator(input: Any, ctx: Context) -> Iterator[Any]:
            job = job_of(input, ctx)
            progress.register(ctx.job_id, ctx)
            chunks = handler(job)
            try:
                for chunk in chunks:
                    _chunk_error(chunk)
                    yield chunk
            finally:
                progress.unregister(ctx.job_id)
                chunks.close()

        return run_generator

    if inspect.iscoroutinefunction(handler):

        async def run_async(input: Any, ctx: Context) -> Any:
            job = job_of(input, ctx)
            progress.register(ctx.job_id, ctx)
            try:
                return _output_of(await handler(job), holder)
            finally:
                progress.unregister(ctx.job_id)

        return run_async

    def run_sync(input: Any, ctx: Context) -> Any:
        job = job_of(input, ctx)
        progress.register(ctx.job_id, ctx)
        try:
            result = handler(job)
            if inspect.isawaitable(result):
                # RunPod awaits whatever a handler returns that is awaitable; a sync handler runs in its own thread.
                result = asyncio.run(_awaited(result))
            return _output_of(result, holder)
        finally:
            progress.unregister(ctx.job_id)

    return run_sync


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _import_runpod_serverless() -> Any:
    """`runpod.serverless`, from the real package when it is installed, else from gpuflow's stand-in; with
    `progress_update` routed to the running job's Context wherever a handler file may import it from."""
    if importlib.util.find_spec("runpod") is None:
        sys.modules.pop("runpod", None)
        sys.path.insert(0, _STANDIN_PATH)
        try:
            importlib.import_module("runpod")
        finally:
            sys.path.remove(_STANDIN_PATH)
    serverless: Any = importlib.import_module("runpod.serverless")
    serverless.progress_update = progress.progress_update
    try:
        rp_progress: Any = importlib.import_module("runpod.serverless.modules.rp_progress")
    except ImportError:
        pass
    else:
        rp_progress.progress_update = progress.progress_update
    return serverless
