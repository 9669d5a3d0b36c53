"""The environment a Python worker reads: the same variables as the TypeScript worker (config/env.ts)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from temporalio.converter import DataConverter
from temporalio.envconfig import ClientConfigProfile

from .blobs import BlobStore, create_blob_store
from .encryption import EncryptionKey, encryption_data_converter, parse_encryption_keys
from .job_log import MAX_JOB_LOG_BYTES, MIN_JOB_LOG_BYTES
from .protocol import CONTROL_TASK_QUEUE, DEFAULT_PAYLOAD_THRESHOLD_BYTES, MAX_PAYLOAD_THRESHOLD_BYTES

DEFAULT_TEMPORAL_ADDRESS = "127.0.0.1:7233"
DEFAULT_TEMPORAL_NAMESPACE = "default"
DEFAULT_WORKER_HEARTBEAT_INTERVAL_MS = 10_000


class EnvError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid environment:\n" + "\n".join(f"  - {problem}" for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class WorkerEnv:
    #: Keyword arguments of ``temporalio.client.Client.connect``, from envconfig (``TEMPORAL_*``, ``temporal.toml``).
    connect: dict[str, Any]
    namespace: str
    store: BlobStore
    payload_threshold_bytes: int
    control_task_queue: str
    #: Largest log of one attempt kept in the store, bytes (``GPUFLOW_MAX_JOB_LOG_BYTES``).
    max_job_log_bytes: int = MAX_JOB_LOG_BYTES
    #: The ring of ``GPUFLOW_ENCRYPTION_KEY(S)``, first key encrypting; None: payloads are stored as they are.
    encryption_keys: list[EncryptionKey] | None = None
    #: ``GPUFLOW_WORKER_HEARTBEAT_INTERVAL_MS``: Temporal's worker heartbeat period (``GET /v1/workers``), ms.
    worker_heartbeat_interval_ms: int = DEFAULT_WORKER_HEARTBEAT_INTERVAL_MS

    @property
    def data_converter(self) -> DataConverter:
        """Temporal's default converter, with the encrypting codec when a key ring is set (as every TS process)."""
        return encryption_data_converter(self.encryption_keys)


def load_env(source: Mapping[str, str] | None = None) -> WorkerEnv:
    """Reads the environment once. Empty strings count as unset, as on the TS side.

    Raises:
        EnvError: naming every bad variable at once.
    """
    env = {name: value for name, value in (os.environ if source is None else source).items() if value != ""}
    problems: list[str] = []
    threshold = DEFAULT_PAYLOAD_THRESHOLD_BYTES
    raw = env.get("GPUFLOW_PAYLOAD_THRESHOLD_BYTES")
    if raw is not None:
        try:
            threshold = int(raw)
            if not 1024 <= threshold <= MAX_PAYLOAD_THRESHOLD_BYTES:
                raise ValueError
        except ValueError:
            problems.append(
                f"GPUFLOW_PAYLOAD_THRESHOLD_BYTES: a whole number from 1024 to {MAX_PAYLOAD_THRESHOLD_BYTES}"
            )
    max_log = MAX_JOB_LOG_BYTES
    raw = env.get("GPUFLOW_MAX_JOB_LOG_BYTES")
    if raw is not None:
        try:
            max_log = int(raw)
            if not MIN_JOB_LOG_BYTES <= max_log <= 64 * 1024 * 1024:
                raise ValueError
        except ValueError:
            problems.append(f"GPUFLOW_MAX_JOB_LOG_BYTES: a whole number from {MIN_JOB_LOG_BYTES} to {64 * 1024 * 1024}")
    heartbeat_ms = DEFAULT_WORKER_HEARTBEAT_INTERVAL_MS
    raw = env.get("GPUFLOW_WORKER_HEARTBEAT_INTERVAL_MS")
    if raw is not None:
        try:
            heartbeat_ms = int(raw)
            if not 1000 <= heartbeat_ms <= 60_000:
                raise ValueError
        except ValueError:
            problems.append("GPUFLOW_WORKER_HEARTBEAT_INTERVAL_MS: a whole number from 1000 to 60000")
    s3_settings = (
        "GPUFLOW_S3_ENDPOINT",
        "GPUFLOW_S3_ACCESS_KEY_ID",
        "GPUFLOW_S3_SECRET_ACCESS_KEY",
        "GPUFLOW_S3_PREFIX",
    )
    s3_given = [name for name in s3_settings if name in env]
    if "GPUFLOW_S3_BUCKET" not in env and s3_given:
        problems.append(f"GPUFLOW_S3_BUCKET: required with {', '.join(s3_given)}")
    if ("GPUFLOW_S3_ACCESS_KEY_ID" in env) != ("GPUFLOW_S3_SECRET_ACCESS_KEY" in env):
        problems.append("GPUFLOW_S3_ACCESS_KEY_ID and GPUFLOW_S3_SECRET_ACCESS_KEY go together (or neither)")
    encryption_keys, encryption_problems = parse_encryption_keys(env)
    problems.extend(encryption_problems)
    try:
        profile = ClientConfigProfile.load(override_env_vars=env)
        connect: dict[str, Any] = dict(profile.to_client_connect_config())
    except Exception as err:
        problems.append(f"Temporal connection settings (TEMPORAL_*, temporal.toml): {err}")
        connect = {}
    if problems:
        raise EnvError(problems)
    connect.setdefault("target_host", DEFAULT_TEMPORAL_ADDRESS)
    connect["namespace"] = connect.get("namespace") or DEFAULT_TEMPORAL_NAMESPACE
    return WorkerEnv(
        connect=connect,
        namespace=str(connect["namespace"]),
        store=create_blob_store(env),
        payload_threshold_bytes=threshold,
        max_job_log_bytes=max_log,
        control_task_queue=env.get("GPUFLOW_CONTROL_TASK_QUEUE", CONTROL_TASK_QUEUE),
        encryption_keys=encryption_keys,
        worker_heartbeat_interval_ms=heartbeat_ms,
    )
