"""A job worker's Prometheus metrics (``gpuflow-worker --metrics-port``): the same names, labels and buckets as the
TypeScript worker's (workers/job-worker-metrics.ts), so one dashboard covers both."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.process_collector import ProcessCollector
from temporalio import activity
from temporalio.exceptions import CancelledError

T = TypeVar("T")

ATTEMPT_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14_400)


class WorkerMetrics:
    """Jobs running and capacity per type, attempt durations by type and outcome (completed, failed, cancelled),
    and attempts whose lease a heartbeat found lost (``not_found``: the server no longer knows the attempt,
    ``timed_out``). The Temporal SDK's runtime metrics are served by the SDK itself on their own port."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        self._running = Gauge(
            "gpuflow_worker_jobs_running",
            "Jobs of a type running on this worker now",
            ["type"],
            registry=self.registry,
        )
        self._capacity = Gauge(
            "gpuflow_worker_capacity",
            "Jobs of a type this worker runs at once (--capacity)",
            ["type"],
            registry=self.registry,
        )
        self._attempts = Histogram(
            "gpuflow_worker_attempt_duration_seconds",
            "Attempts run on this worker, by type and outcome (completed, failed, cancelled), and how long they ran",
            ["type", "outcome"],
            buckets=ATTEMPT_BUCKETS,
            registry=self.registry,
        )
        # prometheus_client adds the `_total` suffix itself: the exposed name is the TS worker's.
        self._heartbeat_failures = Counter(
            "gpuflow_worker_heartbeat_failures",
            "Attempts whose lease a heartbeat found lost: not_found (the server no longer knows it), timed_out",
            ["type", "reason"],
            registry=self.registry,
        )

    def serves(self, job_type: str, capacity: int) -> None:
        self._capacity.labels(type=job_type).set(capacity)
        self._running.labels(type=job_type).set(0)

    async def attempt(self, job_type: str, run: Callable[[], Awaitable[T]]) -> T:
        """Runs one attempt of ``job_type`` (inside its activity) and records how it went."""
        running = self._running.labels(type=job_type)
        running.inc()
        started = asyncio.get_running_loop().time()
        outcome = "failed"
        try:
            result = await run()
            outcome = "completed"
            return result
        except (asyncio.CancelledError, CancelledError):
            outcome = "cancelled"
            raise
        finally:
            details = activity.cancellation_details() if activity.in_activity() else None
            if details is not None and details.not_found:
                self._heartbeat_failures.labels(type=job_type, reason="not_found").inc()
            elif details is not None and details.timed_out:
                self._heartbeat_failures.labels(type=job_type, reason="timed_out").inc()
            running.dec()
            elapsed = asyncio.get_running_loop().time() - started
            self._attempts.labels(type=job_type, outcome=outcome).observe(elapsed)

    def serve(self, port: int, host: str = "0.0.0.0") -> Callable[[], None]:
        """Serves the registry as ``GET /metrics`` on ``host:port``; returns a function that stops serving."""
        server, thread = start_http_server(port, addr=host, registry=self.registry)

        def close() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

        return close
