"""Running one job in-process, without Temporal: ``gpuflow-worker test`` and unit tests of handlers."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from .attempt_end import to_application_error
from .batch import Batcher
from .blobs import Blob, BlobUnavailableError
from .context import AttemptState, Context
from .errors import ProtocolFailure
from .job import JobDefinition
from .payloads import resolve_payload
from .protocol import FailureTypes, describe_validation_error
from .runner import Cancellation, run_handler
from .worker import prepare


class MemoryBlobStore:
    """A blob store in a dict: where a local run's artifacts go."""

    location = "memory"

    def __init__(self) -> None:
        self.blobs: dict[str, Blob] = {}

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.blobs[key] = Blob(body, content_type)

    def get(self, key: str) -> Blob | None:
        return self.blobs.get(key)

    def size(self, key: str) -> int | None:
        blob = self.blobs.get(key)
        return None if blob is None else len(blob.body)


@dataclass
class LocalResult:
    """What one local run did. ``error`` is ``None`` when the job completed."""

    output: Any = None
    error: str | None = None
    error_type: str | None = None
    retryable: bool | None = None
    progress: list[dict[str, Any]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    chunks: list[Any] = field(default_factory=list)
    #: name -> (bytes, content type)
    artifacts: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def run_local(
    definition: JobDefinition,
    input: Any,
    *,
    job_id: str = "local_test",
    print_line: Callable[[str], None] | None = None,
    resume_from: Any = None,
) -> LocalResult:
    """Runs one job of ``definition`` in this process (its ``setup`` first): the input validated as a worker
    would, progress, log lines and stream chunks printed and collected, the output or the error returned."""
    return asyncio.run(
        run_local_async(definition, input, job_id=job_id, print_line=print_line, resume_from=resume_from)
    )


async def run_local_async(
    definition: JobDefinition,
    input: Any,
    *,
    job_id: str = "local_test",
    print_line: Callable[[str], None] | None = None,
    resume_from: Any = None,
) -> LocalResult:
    say = print_line or (lambda line: print(line, file=sys.stderr, flush=True))
    result = LocalResult()
    store = MemoryBlobStore()
    ready = (await prepare([definition]))[definition.type]
    previous = {"progress": None, "log": [], "checkpoint": resume_from} if resume_from is not None else None

    def log_line(line: str) -> None:
        result.log.append(line)
        say(f"log: {line}")

    state = AttemptState(previous=previous, print_line=log_line)
    reported: list[Any] = [None]

    def on_change() -> None:
        details = state.details()
        if details["progress"] is not None and details["progress"] != reported[0]:
            reported[0] = details["progress"]
            result.progress.append(details["progress"])
            message = details["progress"]["message"]
            say(f"progress: {details['progress']['percent']:g}%" + (f" {message}" if message else ""))

    state.on_change = on_change
    cancellation = Cancellation()
    ctx = Context(
        job_id=job_id,
        attempt=1,
        worker_id="local",
        resources=ready.resources,
        state=state,
        store=store,
        cancelled=cancellation.is_set,
        resume_from=resume_from,
    )

    async def send(chunks: list[Any]) -> None:
        for chunk in chunks:
            result.chunks.append(chunk)
            say(f"chunk: {json.dumps(chunk, ensure_ascii=False)}")

    try:
        try:
            value = resolve_payload(input, None)
        except BlobUnavailableError as err:
            raise ProtocolFailure(str(err), FailureTypes.input_unavailable) from err
        if definition.input_model is not None:
            try:
                value = definition.input_model.model_validate(value)
            except PydanticValidationError as err:
                raise ProtocolFailure(describe_validation_error(err), FailureTypes.validation) from err
        if definition.batch is not None:
            # A batched type runs as a batch of one, as a lone job on a worker does.
            batcher = Batcher(definition, ready.resources, "local")
            result.output = await batcher.run(value, ctx, cancellation)
        else:
            result.output = await run_handler(
                definition, value, ctx, cancellation=cancellation, send=send, attempt=1, on_capped=ctx.log
            )
    except Exception as err:
        failure = to_application_error(err, {})
        result.error, result.error_type, result.retryable = failure.message, failure.type, not failure.non_retryable
    for key, blob in store.blobs.items():
        name = key.rsplit("/", 1)[-1]
        result.artifacts[name] = (blob.body, blob.content_type)
    return result
