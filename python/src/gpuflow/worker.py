"""The worker process: one Temporal worker per job type on ``jobs.<type>``, the drain, scale to zero."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker

from .activity import JobActivities, ReadyJob
from .batch import check_batch_capacity
from .config import WorkerEnv
from .connect import connect_with_backoff
from .job import JobDefinition
from .metrics import WorkerMetrics
from .protocol import (
    ACTIVITY,
    ANNOUNCE_TIMEOUT_S,
    JOB_TYPE_CATALOG_SUMMARY,
    JOB_TYPE_CATALOG_WORKFLOW,
    MAX_INPUT_SCHEMA_CHARS,
    Signals,
    job_task_queue,
    job_type_catalog_id,
)


def default_identity() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _say(line: str) -> None:
    print(line, flush=True)


async def prepare(definitions: Sequence[JobDefinition]) -> dict[str, ReadyJob]:
    """Runs every type's ``setup`` once (the cold start), before the worker takes jobs."""
    ready: dict[str, ReadyJob] = {}
    for definition in definitions:
        resources: Any = None
        if definition.setup is not None:
            resources = definition.setup()
            if inspect.isawaitable(resources):
                resources = await resources
        ready[definition.type] = ReadyJob(definition, resources)
    return ready


def input_schemas_of(definitions: Sequence[JobDefinition]) -> dict[str, dict[str, Any]]:
    """Each type's input JSON Schema (pydantic's ``model_json_schema()``, validation mode), for the API to check
    submissions against; a type without a model, or with a schema too large for the catalog, is left out."""
    schemas: dict[str, dict[str, Any]] = {}
    for definition in definitions:
        if definition.input_model is None:
            continue
        try:
            schema = definition.input_model.model_json_schema()
        except Exception:
            continue
        if len(json.dumps(schema, separators=(",", ":"))) <= MAX_INPUT_SCHEMA_CHARS:
            schemas[definition.type] = schema
    return schemas


async def announce_job_types(
    client: Client,
    control_task_queue: str,
    types: list[str],
    identity: str,
    input_schemas: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Signal-with-start of the job type catalog, so operator views list the types at once and the API can check
    inputs against the published schemas. Best effort."""
    args: list[Any] = [types, input_schemas] if input_schemas else [types]
    try:
        await asyncio.wait_for(
            client.start_workflow(
                JOB_TYPE_CATALOG_WORKFLOW,
                {"types": []},
                id=job_type_catalog_id(control_task_queue),
                task_queue=control_task_queue,
                start_signal=Signals.job_types_seen,
                start_signal_args=args,
                static_summary=JOB_TYPE_CATALOG_SUMMARY,
                rpc_timeout=timedelta(seconds=ANNOUNCE_TIMEOUT_S),
            ),
            ANNOUNCE_TIMEOUT_S,
        )
    except Exception as err:
        print(f"worker {identity}: could not record its job types in the job type catalog: {err}", file=sys.stderr)


def worker_runtime(env: WorkerEnv, sdk_metrics_address: str | None) -> Runtime:
    """The Temporal runtime of this process: Temporal's worker heartbeat every ``GPUFLOW_WORKER_HEARTBEAT_INTERVAL_MS``
    (the SDK's default is 60 s), and with ``sdk_metrics_address`` (``host:port``) the SDK's own Prometheus metrics
    (``temporal_*``: polls, slots, task latencies) served there by the SDK, as the TS worker does."""
    metrics = (
        PrometheusConfig(bind_address=sdk_metrics_address, counters_total_suffix=True) if sdk_metrics_address else None
    )
    return Runtime(
        telemetry=TelemetryConfig(metrics=metrics),
        worker_heartbeat_interval=timedelta(milliseconds=env.worker_heartbeat_interval_ms),
    )


async def run_worker(
    definitions: Sequence[JobDefinition],
    env: WorkerEnv,
    *,
    capacity: int = 1,
    grace_s: float = 30.0,
    idle_exit_s: float | None = None,
    identity: str | None = None,
    heartbeat_interval_s: float = 1.0,
    metrics_port: int | None = None,
    sdk_metrics_port: int | None = None,
    metrics_host: str = "0.0.0.0",
    print_line: Callable[[str], None] = _say,
) -> None:
    """Serves the job types until SIGTERM or SIGINT (a drain: polling stops, running jobs get ``grace_s``), until
    ``idle_exit_s`` passes with no job running, or until a job of a ``refresh_after_job`` type ends."""
    identity = identity or default_identity()
    check_batch_capacity(definitions, capacity)
    ready = await prepare(definitions)
    if metrics_port is not None and sdk_metrics_port is None:
        sdk_metrics_port = metrics_port + 1
    bracketed = f"[{metrics_host}]" if ":" in metrics_host else metrics_host
    runtime = worker_runtime(env, None if sdk_metrics_port is None else f"{bracketed}:{sdk_metrics_port}")
    client = await connect_with_backoff(
        env.connect, who="worker", print_line=print_line, data_converter=env.data_converter, runtime=runtime
    )
    metrics = WorkerMetrics() if metrics_port is not None else None
    close_metrics = None if metrics is None or metrics_port is None else metrics.serve(metrics_port, metrics_host)
    stop = asyncio.Event()
    running = [0]
    idle_timer: list[asyncio.TimerHandle | None] = [None]
    loop = asyncio.get_running_loop()

    def arm_idle() -> None:
        if idle_timer[0] is not None:
            idle_timer[0].cancel()
            idle_timer[0] = None
        if idle_exit_s is not None and running[0] == 0 and not stop.is_set():
            idle_timer[0] = loop.call_later(idle_exit_s, idle_exit)

    def idle_exit() -> None:
        print_line(f"worker {identity}: no job for {idle_exit_s:g} s, exiting")
        stop.set()

    def on_start(job_type: str) -> None:
        running[0] += 1
        if idle_timer[0] is not None:
            idle_timer[0].cancel()
            idle_timer[0] = None

    def on_end(job_type: str) -> None:
        running[0] -= 1
        if ready[job_type].definition.refresh_after_job and not stop.is_set():
            print_line(f"worker {identity}: {job_type} asks for a fresh process after each job, exiting")
            stop.set()
        arm_idle()

    activities = JobActivities(
        ready,
        worker_id=identity,
        store=env.store,
        payload_threshold_bytes=env.payload_threshold_bytes,
        max_job_log_bytes=env.max_job_log_bytes,
        heartbeat_interval_s=heartbeat_interval_s,
        print_line=print_line,
        on_start=on_start,
        on_end=on_end,
    )
    execute_job: Callable[..., Any] = activities.execute_job
    if metrics is not None:
        inner = activities.execute_job
        for job_type, job in ready.items():
            metrics.serves(job_type, job.definition.capacity or capacity)

        @activity.defn(name=ACTIVITY)
        async def execute_job(request: dict[str, Any]) -> dict[str, Any]:
            return await metrics.attempt(str(request.get("type")), lambda: inner(request))

    workers = [
        Worker(
            client,
            task_queue=job_task_queue(job_type),
            activities=[execute_job],
            identity=identity,
            max_concurrent_activities=job.definition.capacity or capacity,
            graceful_shutdown_timeout=timedelta(seconds=grace_s),
            # Heartbeats carry progress: flush them at least once a second instead of the SDK's 30-60 s.
            # The activity spaces its heartbeats itself (progress freshness, a third of the lease): the SDK's own
            # throttle must not hold them longer than the shortest freshness a job may ask for.
            max_heartbeat_throttle_interval=timedelta(milliseconds=100),
            default_heartbeat_throttle_interval=timedelta(milliseconds=100),
        )
        for job_type, job in ready.items()
    ]

    def on_signal(name: str) -> None:
        if not stop.is_set():
            print_line(f"worker {identity}: {name}, draining (running jobs get {grace_s:g} s to finish)")
            stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig.name)
    schemas = input_schemas_of([job.definition for job in ready.values()])
    announcing = asyncio.create_task(announce_job_types(client, env.control_task_queue, list(ready), identity, schemas))
    runs = [asyncio.create_task(worker.run()) for worker in workers]
    print_line(
        f"worker {identity}: serving {', '.join(ready)} (capacity {capacity} per type) on "
        f"{env.connect.get('target_host')}" + (f"; exits after {idle_exit_s:g} s without a job" if idle_exit_s else "")
    )
    if metrics_port is not None:
        print_line(
            f"worker {identity}: metrics on http://{metrics_host}:{metrics_port}/metrics, "
            f"SDK metrics on port {sdk_metrics_port}"
        )
    arm_idle()
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([*runs, stopping], return_when=asyncio.FIRST_COMPLETED)
        failed = [task for task in done if task is not stopping]
        stop.set()
        await asyncio.gather(*(worker.shutdown() for worker in workers), return_exceptions=True)
        results = await asyncio.gather(*runs, return_exceptions=True)
        for task in failed:
            task.result()
        # Results kept alongside their completions: on disk before the process may exit.
        await activities.keeps_landed()
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result
        print_line(f"worker {identity}: drained, exiting")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        announcing.cancel()
        stopping.cancel()
        if close_metrics is not None:
            close_metrics()
