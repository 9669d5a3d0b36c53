"""The environment a Python worker reads: the same variables as the TypeScript worker (config/env.ts)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from temporalio.envconfig import ClientConfigProfile

from .blobs import BlobStore, create_blob_store
from .protocol import CONTROL_TASK_QUEUE, DEFAULT_PAYLOAD_THRESHOLD_BYTES, MAX_PAYLOAD_THRESHOLD_BYTES

DEFAULT_TEMPORAL_ADDRESS = "127.0.0.1:7233"
DEFAULT_TEMPORAL_NAMESPACE = "default"


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
    # The TS side's payload encryption codec (storage/encryption-codec.ts) is not in the Python SDK yet: a worker
    # that cannot read the payloads must not start and fail every job it takes.
    problems.extend(
        f"{name}: payload encryption is not supported by the Python worker yet; run TS workers for these jobs"
        for name in ("GPUFLOW_ENCRYPTION_KEY", "GPUFLOW_ENCRYPTION_KEYS")
        if name in env
    )
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
        control_task_queue=env.get("GPUFLOW_CONTROL_TASK_QUEUE", CONTROL_TASK_QUEUE),
    )
