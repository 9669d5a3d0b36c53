"""The ``executeJob`` activity, as protocol/PROTOCOL.md specifies it: one attempt of one job."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from .attempt_end import end_aborted_attempt, to_application_error
from .batch import Batchers
from .blobs import BlobStore, BlobUnavailableError, CheckedStore, store_mismatch
from .context import AttemptState, Context
from .errors import ProtocolFailure
from .heartbeats import HeartbeatSchedule
from .job import JobDefinition
from .job_log import MAX_JOB_LOG_BYTES, AttemptLog
from .payloads import completed_result_key, externalize_payload, output_blob_key, resolve_payload, to_json_bytes
from .protocol import (
    ACTIVITY,
    DEFAULT_PAYLOAD_THRESHOLD_BYTES,
    SIGNAL_TIMEOUT_S,
    FailureTypes,
    Signals,
    describe_validation_error,
    is_blob_ref,
    is_heartbeat_details,
    resume_of,
)
from .results import ResultKeeper, find_result
from .runner import Cancellation, run_handler


@dataclass(frozen=True)
class ReadyJob:
    """A job type ready to run here: its definition and what its ``setup`` returned."""

    definition: JobDefinition
    resources: Any


def iso_utc(moment: datetime) -> str:
    """``2026-01-02T03:04:05.678Z``, as JavaScript's ``toISOString``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class JobActivities:
    """Holds what every attempt needs; :attr:`execute_job` is the activity to register."""

    def __init__(
        self,
        jobs: Mapping[str, ReadyJob],
        *,
        worker_id: str,
        store: BlobStore | None = None,
        payload_threshold_bytes: int = DEFAULT_PAYLOAD_THRESHOLD_BYTES,
        heartbeat_interval_s: float = 1.0,
        print_line: Callable[[str], None] = print,
        max_job_log_bytes: int = MAX_JOB_LOG_BYTES,
        on_start: Callable[[str], None] = lambda job_type: None,
        on_end: Callable[[str], None] = lambda job_type: None,
    ) -> None:
        self.jobs = dict(jobs)
        self.worker_id = worker_id
        self.store = store
        self.threshold = payload_threshold_bytes
        self.heartbeat_interval_s = heartbeat_interval_s
        self.print_line = print_line
        self.max_job_log_bytes = max_job_log_bytes
        self.on_start = on_start
        self.on_end = on_end
        # One read of each API store marker per process: the answer does not change while the worker runs.
        self.marker_checks: dict[str, str | None] = {}
        self.batches = Batchers(worker_id)
        # Results being kept alongside their completions.
        self.results = ResultKeeper(print_line)

        async def execute_job(request: dict[str, Any]) -> dict[str, Any]:
            return await self._execute_job(request)

        self.execute_job = activity.defn(name=ACTIVITY)(execute_job)

    async def _execute_job(self, request: dict[str, Any]) -> dict[str, Any]:
        job_type = str(request.get("type"))
        ready = self.jobs.get(job_type)
        if ready is None:
            raise ApplicationError(
                f'this worker does not serve job type "{job_type}"',
                {},
                type=FailureTypes.unknown_job_type,
                non_retryable=True,
            )
        job_id = str(request.get("jobId"))
        label = f"{job_id}#{job_attempt(request)}"
        self.on_start(job_type)
        self.print_line(f"worker {self.worker_id}: {label} ({job_type}) started")
        started = time.perf_counter()
        try:
            result = await self._attempt(ready, request, job_id)
        except asyncio.CancelledError:
            self.print_line(f"worker {self.worker_id}: {label} cancelled")
            raise
        except ApplicationError as err:
            retry = "" if err.non_retryable else " (retryable)"
            self.print_line(f"worker {self.worker_id}: {label} failed{retry}: {err.type}: {err.message}")
            raise
        finally:
            self.on_end(job_type)
        elapsed = round((time.perf_counter() - started) * 1000)
        self.print_line(f"worker {self.worker_id}: {label} completed in {elapsed} ms")
        return result

    async def _attempt(self, ready: ReadyJob, request: dict[str, Any], job_id: str) -> dict[str, Any]:
        info = activity.info()
        run_id = info.workflow_run_id or None
        # A job scheduled again after a drain goes on counting its attempts, from the drained one's checkpoint.
        resume = resume_of(request)
        attempt = job_attempt(request)
        store = self.store
        results_store = store
        marker = request.get("blobStore")
        if store is not None and isinstance(marker, dict) and isinstance(marker.get("token"), str):
            store = CheckedStore(store, lambda: self._check_marker(results_store, marker))
        results_key = completed_result_key(job_id, run_id) if store is not None and run_id else None
        # Only a retry can follow a handler that finished: the first attempt of a run skips the read.
        if results_store is not None and results_key is not None and attempt > 1:
            finished = await asyncio.to_thread(find_result, results_store, results_key)
            if finished is not None:
                self.print_line(f"[{job_id}#{attempt}] an earlier attempt of this run finished: its result stands")
                return finished

        # Details of an earlier attempt (perhaps from a worker in another language): only a valid shape is carried.
        if info.attempt == 1 and resume is not None:
            previous: Any = {"progress": None, "log": [], **{k: v for k, v in resume.items() if k != "attemptOffset"}}
        else:
            previous = info.heartbeat_details[0] if info.heartbeat_details else None
        log = AttemptLog(
            store,
            job_id,
            attempt,
            max_bytes=self.max_job_log_bytes,
            warn=lambda message: activity.logger.warning(message),
        )

        def print_line(line: str) -> None:
            log.line(line)
            self.print_line(f"[{job_id}#{attempt}] {line}")

        state = AttemptState(previous=previous if is_heartbeat_details(previous) else None, print_line=print_line)

        # The lease and the job's progress freshness (protocol section 4; see ``HeartbeatSchedule``).
        freshness_ms = request.get("progressFreshnessMs")
        freshness_s = (
            freshness_ms / 1000
            if isinstance(freshness_ms, int) and not isinstance(freshness_ms, bool) and freshness_ms >= 100
            else self.heartbeat_interval_s
        )
        heartbeat_timeout = info.heartbeat_timeout or timedelta(seconds=30)
        beats = HeartbeatSchedule(
            lambda: activity.heartbeat(state.details()),
            freshness_s=freshness_s,
            renew_s=heartbeat_timeout.total_seconds() / 3,
            loop=asyncio.get_running_loop(),
            context=contextvars.copy_context(),
        )

        # The running job's view reads the start from the pending activity; these facts go with the attempt's end,
        # and in its heartbeats (a retry after a lost worker names the lost attempt from them).
        facts = {
            "attempt": attempt,
            "workerId": self.worker_id,
            "scheduledAt": iso_utc(info.current_attempt_scheduled_time),
            "startedAt": iso_utc(datetime.now(UTC)),
        }
        state.attempt_facts = facts
        state.on_change = beats.changed
        beats.start()
        # Written as often as progress goes out: a lost worker loses at most that long of its log.
        log.start(freshness_s)
        # A first attempt after a drain carries its checkpoint and artifacts in its input: the server must hold them
        # before this attempt can fail, or its retry (which reads them from the server) starts without them.
        if info.attempt == 1 and resume is not None and (state.has_checkpoint or state.artifact_list()):
            beats.now()
        cancellation = Cancellation()
        handler_started = time.perf_counter()
        try:
            try:
                value = request.get("input")
                # Only a reference reads the store; an inline input needs no thread hop (each costs ms on a busy
                # machine, per job).
                if is_blob_ref(value):
                    value = await asyncio.to_thread(resolve_payload, value, store)
            except BlobUnavailableError as err:
                raise ProtocolFailure(str(err), FailureTypes.input_unavailable) from err
            model = ready.definition.input_model
            if model is not None:
                try:
                    value = model.model_validate(value)
                except PydanticValidationError as err:
                    raise ProtocolFailure(describe_validation_error(err), FailureTypes.validation) from err
            ctx = Context(
                job_id=job_id,
                attempt=attempt,
                worker_id=self.worker_id,
                resources=ready.resources,
                state=state,
                store=store,
                # A batch handler reads it outside this activity's context: its batcher sets ``cancellation``.
                cancelled=cancellation.is_set
                if ready.definition.batch
                else lambda: cancellation.is_set() or activity.is_cancelled(),
                resume_from=state.checkpoint if state.has_checkpoint else None,
            )

            async def send(chunks: list[Any]) -> None:
                await self._signal(job_id, run_id, Signals.stream_chunks, {"attempt": attempt, "chunks": chunks})

            if ready.definition.batch is not None:
                # The item joins the next batch; its lease, progress and end stay this attempt's own.
                output = await self.batches.run(ready.definition, ready.resources, value, ctx, cancellation)
            else:
                output = await run_handler(
                    ready.definition,
                    value,
                    ctx,
                    cancellation=cancellation,
                    send=send,
                    attempt=attempt,
                    on_capped=ctx.log,
                )
            handler_time_ms = round((time.perf_counter() - handler_started) * 1000, 2)
            if store is not None:
                key = output_blob_key(job_id, run_id or "standalone", attempt)
                # Measured here on the loop (run_handler has already serialized it once); only storing it goes to
                # a thread.
                if _needs_storing(output, self.threshold):
                    output = await asyncio.to_thread(externalize_payload, output, store, self.threshold, key)
            finished = {
                "output": output,
                "artifacts": state.artifact_list(),
                "attemptFacts": facts,
                "handlerTimeMs": handler_time_ms,
            }
            if results_store is not None and results_key is not None:
                self.results.keep(results_store, results_key, to_json_bytes(finished), f"{job_id}#{attempt}")
            return finished
        except BaseException as err:
            artifacts = state.artifact_list()
            details: dict[str, Any] = {"attemptFacts": facts, **({"artifacts": artifacts} if artifacts else {})}
            if isinstance(err, asyncio.CancelledError) or cancellation.is_set() or activity.is_cancelled():
                await end_aborted_attempt(
                    err,
                    attempt=attempt,
                    details=details,
                    state=state,
                    beats=beats,
                    log=log,
                    on_confirmed=lambda: self.print_line(f"worker {self.worker_id}: {job_id}#{attempt} cancelled"),
                )
            if not isinstance(err, Exception):
                raise
            log.failed(err)
            raise to_application_error(err, details) from err
        finally:
            # A change not sent yet goes out first (a checkpoint the next attempt must find).
            beats.flush()
            beats.stop()
            # Written before the end is reported: a job seen final has its whole log.
            await log.close()

    async def keeps_landed(self) -> None:
        """Returns once the results still being kept are written (bounded): a stopping worker waits for it."""
        await self.results.landed()

    def _check_marker(self, store: BlobStore | None, marker: dict[str, Any]) -> None:
        """Raises ``BlobStoreMismatch`` when this worker's store lacks the API's marker (protocol section 7)."""
        token = str(marker["token"])
        if token not in self.marker_checks:
            problem = store_mismatch(store, marker) if store is not None else None
            self.marker_checks[token] = problem
            if problem:
                self.print_line(f"worker {self.worker_id}: {problem}")
        problem = self.marker_checks[token]
        if problem:
            raise ProtocolFailure(problem, FailureTypes.blob_store_mismatch)

    async def _signal(self, job_id: str, run_id: str | None, name: str, arg: Any) -> None:
        """Bounded and best effort: a lost signal only makes the job's view poorer, it never fails the job."""
        if not run_id:
            return
        try:
            handle = activity.client().get_workflow_handle(job_id, run_id=run_id)
            await asyncio.wait_for(
                handle.signal(name, arg, rpc_timeout=timedelta(seconds=SIGNAL_TIMEOUT_S)), SIGNAL_TIMEOUT_S
            )
        except asyncio.CancelledError:
            raise
        except Exception as err:
            activity.logger.warning(f"could not signal {name}: {err}")


def job_attempt(request: Mapping[str, Any]) -> int:
    """The job's attempt: the activity's own, plus the attempts that ran before a drain scheduled it again."""
    resume = resume_of(request)
    return activity.info().attempt + (resume["attemptOffset"] if resume is not None else 0)


def _needs_storing(output: Any, threshold_bytes: int) -> bool:
    """Whether :func:`externalize_payload` would store ``output`` rather than return it as it is."""
    if isinstance(output, dict) and "$gpuflowBlob" in output:
        return True
    return len(to_json_bytes(output)) > threshold_bytes
