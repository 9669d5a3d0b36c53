"""The blob store the API and the workers share (protocol section 7): a directory or an S3 bucket, the same keys
and layout as the TypeScript stores, so a file a Python handler stores downloads from the API."""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

DEFAULT_CONTENT_TYPE = "application/octet-stream"
JSON_CONTENT_TYPE = "application/json"
_SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")
MAX_KEY_LENGTH = 1024


@dataclass(frozen=True)
class Blob:
    body: bytes
    content_type: str


class BlobStore(Protocol):
    """Where large inputs and outputs and job artifacts live. Calls block: the worker runs them off its loop."""

    location: str

    def put(self, key: str, body: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> Blob | None: ...
    def size(self, key: str) -> int | None: ...


class BlobUnavailableError(Exception):
    def __init__(self, key: str, why: str) -> None:
        super().__init__(f'blob "{key}" is {why}')
        self.key = key


def check_blob_key(key: str) -> str:
    """Refuses a key that could escape its store or mean different things in different stores."""
    if (
        not isinstance(key, str)
        or not key
        or len(key) > MAX_KEY_LENGTH
        or not all(_SEGMENT.match(segment) for segment in key.split("/"))
    ):
        raise ValueError(
            f'invalid blob key {json.dumps(str(key)[:200])}: use "/"-separated segments of A-Z a-z 0-9 . _ - '
            'that do not start with "."'
        )
    return key


class DirectoryBlobStore:
    """Blobs as files: ``<root>/data/<key>`` the bytes, ``<root>/meta/<key>.json`` the content type, each written to
    ``<root>/tmp/`` and renamed into place (the meta first: the data file's arrival makes the blob exist)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.location = f"directory {self.root}"

    def put(self, key: str, body: bytes, content_type: str) -> None:
        data, meta = self._data_path(key), self._meta_path(key)
        data.parent.mkdir(parents=True, exist_ok=True)
        meta.parent.mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        self._write_atomically(meta, json.dumps({"contentType": content_type}).encode())
        self._write_atomically(data, body)

    def get(self, key: str) -> Blob | None:
        try:
            body = self._data_path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        return Blob(body=body, content_type=self._content_type(key))

    def size(self, key: str) -> int | None:
        path = self._data_path(key)
        return path.stat().st_size if path.is_file() else None

    def _data_path(self, key: str) -> Path:
        return self.root / "data" / check_blob_key(key)

    def _meta_path(self, key: str) -> Path:
        return self.root / "meta" / f"{check_blob_key(key)}.json"

    def _content_type(self, key: str) -> str:
        try:
            parsed = json.loads(self._meta_path(key).read_text("utf-8"))
        except (OSError, ValueError):
            return DEFAULT_CONTENT_TYPE
        value = parsed.get("contentType") if isinstance(parsed, dict) else None
        return value if isinstance(value, str) else DEFAULT_CONTENT_TYPE

    def _write_atomically(self, path: Path, body: bytes) -> None:
        temp = self.root / "tmp" / f"{secrets.token_hex(12)}.part"
        try:
            temp.write_bytes(body)
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise


class S3BlobStore:
    """Blobs as objects ``<prefix><key>`` in a bucket, through boto3 (puts are atomic in S3)."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        force_path_style: bool = False,
        prefix: str | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.rstrip("/") + "/" if prefix else ""
        self.location = f"s3://{bucket}/{self.prefix}" + (f" at {endpoint}" if endpoint else "")
        credentials: dict[str, str] = {}
        if access_key_id and secret_access_key:
            credentials = {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key}
        self._client: Any = boto3.client(
            "s3",
            region_name=region,
            endpoint_url=endpoint,
            config=Config(
                s3={"addressing_style": "path" if force_path_style else "auto"},
                connect_timeout=5,
                read_timeout=60,
                # Checksums only where S3 requires them: many S3-compatible servers reject the newer trailers.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
            **credentials,
        )

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self.bucket, Key=self._object_key(key), Body=body, ContentType=content_type)

    def get(self, key: str) -> Blob | None:
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=self._object_key(key))
        except Exception as err:
            if _is_not_found(err):
                return None
            raise
        return Blob(body=answer["Body"].read(), content_type=answer.get("ContentType") or DEFAULT_CONTENT_TYPE)

    def size(self, key: str) -> int | None:
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self._object_key(key))
        except Exception as err:
            if _is_not_found(err):
                return None
            raise
        return int(head.get("ContentLength", 0))

    def _object_key(self, key: str) -> str:
        return self.prefix + check_blob_key(key)


def _is_not_found(err: Exception) -> bool:
    response = getattr(err, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in {"404", "NoSuchKey", "NotFound"} or status == 404


def create_blob_store(env: Mapping[str, str]) -> BlobStore:
    """An S3 bucket when ``GPUFLOW_S3_BUCKET`` is set, else the directory ``<GPUFLOW_DATA_DIR>/blobs``."""

    def value(name: str) -> str | None:
        return env.get(name) or None

    bucket = value("GPUFLOW_S3_BUCKET")
    if bucket:
        return S3BlobStore(
            bucket,
            endpoint=value("GPUFLOW_S3_ENDPOINT"),
            region=value("GPUFLOW_S3_REGION") or "us-east-1",
            access_key_id=value("GPUFLOW_S3_ACCESS_KEY_ID"),
            secret_access_key=value("GPUFLOW_S3_SECRET_ACCESS_KEY"),
            force_path_style=(value("GPUFLOW_S3_FORCE_PATH_STYLE") or "false").lower() in {"1", "true", "yes", "on"},
            prefix=value("GPUFLOW_S3_PREFIX"),
        )
    return DirectoryBlobStore(Path(value("GPUFLOW_DATA_DIR") or ".data") / "blobs")


def store_marker_key(token: str) -> str:
    """Key of the API's store marker of ``token`` (protocol section 7)."""
    return f"store-markers/{token}.json"


def store_mismatch(store: BlobStore, marker: Mapping[str, Any]) -> str | None:
    """``None`` when ``store`` holds the API's marker, else a message naming both stores (an unreadable store counts
    as another store)."""
    token = str(marker.get("token"))
    try:
        blob = store.get(check_blob_key(store_marker_key(token)))
        found = json.loads(blob.body.decode("utf-8")) if blob is not None else None
    except Exception:
        found = None
    if isinstance(found, dict) and found.get("token") == token:
        return None
    return (
        f"this worker's blob store ({store.location}) is not the API's ({marker.get('location')}): artifacts and"
        " large outputs stored here could not be served. Start the worker with the API's store (the same"
        " GPUFLOW_DATA_DIR, or the same GPUFLOW_S3_* settings)"
    )


class CheckedStore:
    """``store``, with ``check`` called before each call: no blob is read or written before the stores agree."""

    def __init__(self, store: BlobStore, check: Callable[[], None]) -> None:
        self.store = store
        self.check = check
        self.location = store.location

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.check()
        self.store.put(key, body, content_type)

    def get(self, key: str) -> Blob | None:
        self.check()
        return self.store.get(key)

    def size(self, key: str) -> int | None:
        self.check()
        return self.store.size(key)
