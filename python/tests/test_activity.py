"""The executeJob activity under temporalio's ActivityEnvironment: no server."""

import asyncio
import dataclasses
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import handlers  # type: ignore[import-not-found]
import pytest
from temporalio.activity import ActivityCancellationDetails
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from gpuflow.activity import JobActivities, ReadyJob
from gpuflow.blobs import DirectoryBlobStore
from gpuflow.job import JobDefinition
from gpuflow.payloads import input_blob_key, to_json_bytes


def activities(*definitions: JobDefinition, store: Any = None, threshold: int = 262144) -> JobActivities:
    ready = {d.type: ReadyJob(d, d.setup() if d.setup else None) for d in definitions}
    return JobActivities(
        ready, worker_id="py-worker", store=store, payload_threshold_bytes=threshold, print_line=lambda line: None
    )


def environment(attempt: int = 1, previous: Any = None) -> tuple[ActivityEnvironment, list[Any]]:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info,
        attempt=attempt,
        heartbeat_details=[previous] if previous is not None else [],
        heartbeat_timeout=timedelta(seconds=30),
    )
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details[0])
    return env, beats


async def test_a_job_completes_with_the_protocol_result_and_heartbeats() -> None:
    env, beats = environment()
    result = await env.run(
        activities(handlers.sync_job).execute_job, {"jobId": "j1", "type": "sync-job", "input": {"steps": 2}}
    )
    assert result["output"] == {"steps": 2, "model": "loaded", "resume": None}
    assert result["artifacts"] == []
    assert result["attemptFacts"]["attempt"] == 1 and result["attemptFacts"]["workerId"] == "py-worker"
    assert result["attemptFacts"]["startedAt"].endswith("Z") and isinstance(result["handlerTimeMs"], float)
    # No heartbeat before there is something to say (each one is a billable action): the first carries progress.
    assert beats and beats[0]["progress"] is not None
    assert {"percent": 100, "message": "step 2"} in [beat["progress"] for beat in beats]


async def test_a_validation_failure_is_not_retryable_and_names_the_field() -> None:
    env, _ = environment()
    with pytest.raises(ApplicationError) as caught:
        await env.run(activities(handlers.sync_job).execute_job, {"jobId": "j", "type": "sync-job", "input": {}})
    assert caught.value.type == "ValidationError" and caught.value.non_retryable
    assert caught.value.message == "input.steps: Field required"


async def test_job_errors_and_unknown_types() -> None:
    env, _ = environment()
    with pytest.raises(ApplicationError) as caught:
        await env.run(activities(handlers.fail_job).execute_job, {"jobId": "j", "type": "fail-job", "input": None})
    assert (caught.value.type, caught.value.non_retryable) == ("JobError", True)
    # The failure names the attempt that ended (the job's view of a failed job reads it from there).
    assert caught.value.details[0]["attemptFacts"]["attempt"] == 1
    with pytest.raises(ApplicationError) as crash:
        await env.run(activities(handlers.crash_job).execute_job, {"jobId": "j", "type": "crash-job", "input": None})
    assert (crash.value.type, crash.value.non_retryable) == ("KeyError", False)
    with pytest.raises(ApplicationError) as unknown:
        await env.run(activities(handlers.fail_job).execute_job, {"jobId": "j", "type": "other", "input": None})
    assert unknown.value.type == "UnknownJobType" and unknown.value.non_retryable


async def test_the_previous_checkpoint_and_artifacts_carry_forward() -> None:
    previous = {
        "progress": {"percent": 30, "message": None},
        "log": ["x"],
        "checkpoint": {"step": 3},
        "artifacts": [{"name": "a.png", "size": 1, "contentType": "image/png"}],
    }
    env, beats = environment(attempt=2, previous=previous)
    result = await env.run(
        activities(handlers.sync_job).execute_job, {"jobId": "j", "type": "sync-job", "input": {"steps": 1}}
    )
    assert result["output"]["resume"] == {"step": 3}
    assert beats[0]["checkpoint"] == {"step": 3} and beats[0]["artifacts"] == previous["artifacts"]
    assert result["artifacts"] == previous["artifacts"]


async def test_invalid_previous_details_are_ignored() -> None:
    env, beats = environment(attempt=2, previous={"checkpoint": 1})
    result = await env.run(
        activities(handlers.sync_job).execute_job, {"jobId": "j", "type": "sync-job", "input": {"steps": 1}}
    )
    assert result["output"]["resume"] is None and "checkpoint" not in beats[0]


async def test_large_outputs_go_by_reference_and_results_are_kept(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    env, _ = environment()
    big = {"text": "x" * 5000}
    acts = activities(handlers.async_job, store=store, threshold=1024)
    result = await env.run(acts.execute_job, {"jobId": "j", "type": "async-job", "input": big})
    assert result["output"]["$gpuflowBlob"]["key"] == "outputs/j/test-run.1.json"
    # Kept alongside the completion's report: landed once the worker has waited for it (as a stopping one does).
    await acts.keeps_landed()
    kept = store.get("results/j/test-run.json")
    assert kept is not None and kept.body == to_json_bytes(result)


async def test_an_input_by_reference_is_read_and_a_small_output_stays_inline(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    body = to_json_bytes({"text": "y" * 3000})
    digest = hashlib.sha256(body).hexdigest()
    store.put(input_blob_key(digest), body, "application/json")
    ref = {"$gpuflowBlob": {"key": input_blob_key(digest), "size": len(body), "sha256": digest}}
    env, _ = environment()
    acts = activities(handlers.async_job, store=store, threshold=262144)
    result = await env.run(acts.execute_job, {"jobId": "j", "type": "async-job", "input": ref})
    assert result["output"] == {"echo": {"text": "y" * 3000}}
    assert store.get("outputs/j/test-run.1.json") is None
    await acts.keeps_landed()
    assert store.get("results/j/test-run.json") is not None


async def test_a_retry_of_a_finished_run_completes_with_the_kept_result(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    finished = {"output": "first", "artifacts": [], "attemptFacts": {"attempt": 1}, "handlerTimeMs": 1}
    store.put("results/j/test-run.json", to_json_bytes(finished), "application/json")
    env, _ = environment(attempt=2)
    result = await env.run(
        activities(handlers.fail_job, store=store).execute_job, {"jobId": "j", "type": "fail-job", "input": None}
    )
    assert result == finished


async def test_cancel_reaches_an_async_handler_as_cancelled_error() -> None:
    env, _ = environment()
    run = asyncio.ensure_future(
        env.run(activities(handlers.slow_async).execute_job, {"jobId": "j", "type": "slow-async", "input": None})
    )
    await asyncio.sleep(0.2)
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert handlers.SEEN["async"] == "CancelledError"


async def test_cancel_reaches_a_sync_handler_as_ctx_cancelled() -> None:
    env, _ = environment()
    run = asyncio.ensure_future(
        env.run(activities(handlers.slow_sync).execute_job, {"jobId": "j", "type": "slow-sync", "input": None})
    )
    await asyncio.sleep(0.2)
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(run, 5)
    assert handlers.SEEN["sync"] == "cancelled"


async def test_a_sync_handler_that_ignores_the_cancel_is_interrupted() -> None:
    env, _ = environment()
    run = asyncio.ensure_future(
        env.run(activities(handlers.stuck_sync).execute_job, {"jobId": "j", "type": "stuck-sync", "input": None})
    )
    await asyncio.sleep(0.2)
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(run, 10)
    assert handlers.SEEN["stuck"] == "interrupted"


async def test_a_drain_past_its_grace_fails_retryable_worker_shutdown() -> None:
    env, _ = environment()
    run = asyncio.ensure_future(
        env.run(activities(handlers.slow_async).execute_job, {"jobId": "j", "type": "slow-async", "input": None})
    )
    await asyncio.sleep(0.2)
    env.cancel(ActivityCancellationDetails(worker_shutdown=True))
    with pytest.raises(ApplicationError) as caught:
        await run
    assert caught.value.type == "WorkerShutdown" and not caught.value.non_retryable
