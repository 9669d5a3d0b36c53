"""Names, limits and shapes of the gpuflow job protocol (protocol/PROTOCOL.md; protocol/schema/constants.json)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError as PydanticValidationError

PROTOCOL_VERSION = 1
ACTIVITY = "executeJob"
JOB_TASK_QUEUE_PREFIX = "jobs."
CONTROL_TASK_QUEUE = "gpuflow-control"
JOB_TYPE_CATALOG_WORKFLOW = "jobTypeCatalog"
#: What the Temporal UI shows for the catalog (the same words as contracts/job-summaries.ts).
JOB_TYPE_CATALOG_SUMMARY = "gpuflow job type catalog: internal, not a job (lists the job types seen)"


class Signals:
    attempt_started = "attemptStarted"
    attempt_failed = "attemptFailed"
    stream_chunks = "streamChunks"
    job_types_seen = "jobTypesSeen"


class FailureTypes:
    validation = "ValidationError"
    unknown_job_type = "UnknownJobType"
    worker_shutdown = "WorkerShutdown"
    input_unavailable = "InputUnavailable"
    blob_store_mismatch = "BlobStoreMismatch"
    stream_chunk_too_large = "StreamChunkTooLarge"


HEARTBEAT_LOG_LINES = 20
MAX_LOG_LINE_CHARS = 2000
MAX_PROGRESS_MESSAGE_CHARS = 2000
MAX_CHECKPOINT_BYTES = 256 * 1024
MAX_ARTIFACTS_PER_JOB = 256
ARTIFACT_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
CONTENT_TYPE_PATTERN = re.compile(r'^[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=("[^"\r\n]*"|[\w.+-]+))*$', re.ASCII)
DEFAULT_PAYLOAD_THRESHOLD_BYTES = 256 * 1024
MAX_PAYLOAD_THRESHOLD_BYTES = 1024 * 1024
SIGNAL_TIMEOUT_S = 5.0
ANNOUNCE_TIMEOUT_S = 10.0
#: The job type catalog keeps a type's input JSON Schema up to this many characters of JSON (``jobTypesSeen``).
MAX_INPUT_SCHEMA_CHARS = 16 * 1024

# Streaming (section 9).
STREAM_FLUSH_INTERVAL_S = 0.25
STREAM_MAX_BATCH_BYTES = 256 * 1024
STREAM_MAX_CHUNK_BYTES = 256 * 1024
STREAM_MAX_BATCHES_PER_RUN = 8000
STREAM_MAX_BYTES_PER_RUN = 40 * 1024 * 1024

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def job_task_queue(type: str) -> str:
    return JOB_TASK_QUEUE_PREFIX + type


def job_type_catalog_id(control_task_queue: str) -> str:
    return f"{control_task_queue}.job-types"


def describe_validation_error(error: PydanticValidationError, root: str = "input") -> str:
    """One part per problem, each led by the path of the bad field, as the TS side words zod's:
    ``input.steps: Input should be a valid integer; input.prompt: Field required``."""
    parts = []
    for issue in error.errors(include_url=False):
        path = ".".join(str(part) for part in (root, *issue["loc"]) if part != "")
        parts.append(f"{path}: {issue['msg']}" if path else issue["msg"])
    return "; ".join(parts)


def clamp_percent(percent: float) -> float:
    """0..100, two decimals (all a progress bar shows); not a finite number: 0."""
    try:
        value = float(percent)
    except (TypeError, ValueError):
        return 0.0
    if not math.isfinite(value):
        return 0.0
    return round(min(100.0, max(0.0, value)), 2)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_artifact(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("name"), str)
        and bool(ARTIFACT_NAME_PATTERN.match(value["name"]))
        and isinstance(value.get("size"), int)
        and not isinstance(value.get("size"), bool)
        and value["size"] >= 0
        and isinstance(value.get("contentType"), str)
    )


def resume_of(request: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``resume`` of an ``executeJob`` argument (schema/execute-job-input.json) when it fits, else ``None``:
    present when the job was scheduled again after a drain (protocol section 10)."""
    resume = request.get("resume")
    if not isinstance(resume, dict):
        return None
    offset = resume.get("attemptOffset")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        return None
    previous = {"progress": None, "log": [], **{k: v for k, v in resume.items() if k in ("checkpoint", "artifacts")}}
    return resume if is_heartbeat_details(previous) else None


def is_heartbeat_details(value: Any) -> bool:
    """Whether ``value`` fits ``HeartbeatDetails`` (schema/heartbeat-details.json): the previous attempt may have
    run on a worker in another language, so only a valid shape is carried on."""
    if not isinstance(value, dict):
        return False
    progress = value.get("progress", ...)
    if progress is not None:
        if not isinstance(progress, dict) or not _is_number(progress.get("percent")):
            return False
        if not 0 <= progress["percent"] <= 100:
            return False
        message = progress.get("message", ...)
        if message is not None and not (isinstance(message, str) and len(message) <= MAX_PROGRESS_MESSAGE_CHARS):
            return False
    log = value.get("log")
    if not isinstance(log, list) or len(log) > HEARTBEAT_LOG_LINES:
        return False
    if not all(isinstance(line, str) and len(line) <= MAX_LOG_LINE_CHARS for line in log):
        return False
    if "artifacts" in value:
        artifacts = value["artifacts"]
        if not isinstance(artifacts, list) or len(artifacts) > MAX_ARTIFACTS_PER_JOB:
            return False
        if not all(is_artifact(artifact) for artifact in artifacts):
            return False
    return True


def is_blob_ref(value: Any) -> bool:
    """``{"$gpuflowBlob": {"key", "size", "sha256"}}`` exactly (schema/blob-ref.json)."""
    if not isinstance(value, dict) or set(value) != {"$gpuflowBlob"}:
        return False
    ref = value["$gpuflowBlob"]
    return (
        isinstance(ref, dict)
        and set(ref) == {"key", "size", "sha256"}
        and isinstance(ref["key"], str)
        and 1 <= len(ref["key"]) <= 1024
        and isinstance(ref["size"], int)
        and not isinstance(ref["size"], bool)
        and ref["size"] >= 0
        and isinstance(ref["sha256"], str)
        and bool(_SHA256.match(ref["sha256"]))
    )


def is_execute_job_result(value: Any) -> bool:
    """Roughly ``ExecuteJobResult``: what a kept result must look like to be completed with again."""
    return (
        isinstance(value, dict)
        and "output" in value
        and isinstance(value.get("artifacts", []), list)
        and all(is_artifact(artifact) for artifact in value.get("artifacts", []))
        and isinstance(value.get("attemptFacts", {}), dict)
    )
