"""Values that travel by reference (protocol section 7): a JSON value past the threshold is stored in the blob
store and sent as ``{"$gpuflowBlob": {key, size, sha256}}``; and the keys inputs, outputs, results and artifacts are
stored under, the same as the TypeScript side's."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from .blobs import JSON_CONTENT_TYPE, BlobStore, BlobUnavailableError
from .protocol import is_blob_ref


def to_json_bytes(value: Any) -> bytes:
    """The JSON every worker writes: compact, UTF-8, no NaN or Infinity (they are not JSON)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def resolve_payload(value: Any, store: BlobStore | None) -> Any:
    """The value a reference stands for, read and checked against its size and sha256; else the value itself.

    Raises:
        BlobUnavailableError: the blob is missing or does not match its reference.
    """
    if not is_blob_ref(value):
        return value
    ref = value["$gpuflowBlob"]
    key = ref["key"]
    if store is None:
        raise BlobUnavailableError(key, "stored, but no blob store is configured here")
    blob = store.get(key)
    if blob is None:
        raise BlobUnavailableError(key, "missing")
    if len(blob.body) != ref["size"] or hashlib.sha256(blob.body).hexdigest() != ref["sha256"]:
        raise BlobUnavailableError(key, "corrupt")
    return json.loads(blob.body.decode("utf-8"))


def externalize_payload(value: Any, store: BlobStore, threshold_bytes: int, key: str | Callable[[str], str]) -> Any:
    """The value itself when its JSON is at most ``threshold_bytes``, else a reference to its JSON stored at ``key``.
    A top-level object with a ``$gpuflowBlob`` property is always stored, so what comes back is exactly it."""
    looks_like_ref = isinstance(value, dict) and "$gpuflowBlob" in value
    body = to_json_bytes(value)
    if not looks_like_ref and len(body) <= threshold_bytes:
        return value
    sha256 = hashlib.sha256(body).hexdigest()
    blob_key = key if isinstance(key, str) else key(sha256)
    if isinstance(key, str) or store.size(blob_key) != len(body):
        store.put(blob_key, body, JSON_CONTENT_TYPE)
    return {"$gpuflowBlob": {"key": blob_key, "size": len(body), "sha256": sha256}}


def artifact_key(job_id: str, name: str) -> str:
    return f"artifacts/{job_id}/{name}"


def output_blob_key(job_id: str, run_id: str, attempt: int) -> str:
    return f"outputs/{job_id}/{run_id}.{attempt}.json"


def input_blob_key(sha256: str) -> str:
    return f"inputs/{sha256}.json"


def completed_result_key(job_id: str, run_id: str) -> str:
    """The result of a run's attempt whose handler finished, kept before it is reported: a later attempt of the same
    run completes with it instead of running the handler again (the first completion may have been lost)."""
    return f"results/{job_id}/{run_id}.json"
