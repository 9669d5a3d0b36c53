import hashlib
import json
from pathlib import Path

import pytest

from gpuflow.blobs import (
    BlobUnavailableError,
    DirectoryBlobStore,
    check_blob_key,
    create_blob_store,
)
from gpuflow.payloads import externalize_payload, resolve_payload


def test_the_directory_store_has_the_ts_layout(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    store.put("artifacts/job_1/out.png", b"png", "image/png")
    assert (tmp_path / "data/artifacts/job_1/out.png").read_bytes() == b"png"
    assert json.loads((tmp_path / "meta/artifacts/job_1/out.png.json").read_text()) == {"contentType": "image/png"}
    assert list((tmp_path / "tmp").iterdir()) == []
    blob = store.get("artifacts/job_1/out.png")
    assert blob is not None and (blob.body, blob.content_type) == (b"png", "image/png")
    assert store.size("artifacts/job_1/out.png") == 3
    assert store.get("artifacts/job_1/none") is None and store.size("nothing") is None


@pytest.mark.parametrize("key", ["", "../x", "a/../b", "a//b", ".hidden", "a/.b", "a b", "x" * 1025])
def test_keys_that_could_escape_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key"):
        check_blob_key(key)


def test_create_blob_store_uses_the_data_dir(tmp_path: Path) -> None:
    store = create_blob_store({"GPUFLOW_DATA_DIR": str(tmp_path)})
    assert isinstance(store, DirectoryBlobStore) and store.root == (tmp_path / "blobs").resolve()


def test_large_values_travel_by_checked_reference(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    small = {"a": 1}
    assert externalize_payload(small, store, 1024, "outputs/j/r.1.json") is small
    big = {"text": "x" * 5000}
    ref = externalize_payload(big, store, 1024, "outputs/j/r.1.json")
    body = (tmp_path / "data/outputs/j/r.1.json").read_bytes()
    assert ref == {
        "$gpuflowBlob": {"key": "outputs/j/r.1.json", "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    }
    assert resolve_payload(ref, store) == big
    # A value shaped like a reference is always stored, so it comes back as itself.
    lookalike = {"$gpuflowBlob": {"key": "inputs/x.json", "size": 1, "sha256": "0" * 64}}
    assert resolve_payload(externalize_payload(lookalike, store, 1024, "outputs/j/r.2.json"), store) == lookalike


def test_a_missing_or_corrupt_blob_is_unavailable(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    with pytest.raises(BlobUnavailableError, match="missing"):
        resolve_payload({"$gpuflowBlob": {"key": "inputs/a.json", "size": 2, "sha256": "0" * 64}}, store)
    store.put("inputs/a.json", b"{}", "application/json")
    with pytest.raises(BlobUnavailableError, match="corrupt"):
        resolve_payload({"$gpuflowBlob": {"key": "inputs/a.json", "size": 2, "sha256": "0" * 64}}, store)
