"""The Python job log writer follows the TS layout (protocol/PROTOCOL.md, "Job logs")."""

from __future__ import annotations

import json
import re
from pathlib import Path

from gpuflow.blobs import DirectoryBlobStore
from gpuflow.job_log import JOB_LOG_CONTENT_TYPE, JobLogWriter, job_log_key


def _lines(store: DirectoryBlobStore, key: str) -> list[dict[str, object]]:
    blob = store.get(key)
    assert blob is not None
    assert blob.content_type == JOB_LOG_CONTENT_TYPE
    return [json.loads(line) for line in blob.body.decode().splitlines()]


def test_lines_carry_their_attempt_and_time(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    writer = JobLogWriter(store, "echo-1", 3)
    writer.append("one")
    writer.append_text("two\nthree\n")
    writer.append("x" * 5000)
    writer.flush()
    lines = _lines(store, job_log_key("echo-1", 3))
    assert job_log_key("echo-1", 3) == "logs/echo-1/3.jsonl"
    assert [line["line"] for line in lines[:3]] == ["one", "two", "three"]
    assert len(str(lines[3]["line"])) == 2000
    assert all(line["attempt"] == 3 for line in lines)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(line["at"])) for line in lines)


def test_past_the_bound_the_first_and_newest_lines_stay(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    writer = JobLogWriter(store, "chatty-1", 1, max_bytes=8192)
    for i in range(2000):
        writer.append(f"line {i}")
    writer.flush()
    blob = store.get(job_log_key("chatty-1", 1))
    assert blob is not None and len(blob.body) <= 8192
    texts = [str(line["line"]) for line in _lines(store, job_log_key("chatty-1", 1))]
    assert texts[0] == "line 0" and texts[-1] == "line 1999"
    marker = next(i for i, text in enumerate(texts) if "lines dropped" in text)
    match = re.fullmatch(r"… (\d+) lines dropped \(log over 8192 bytes\)", texts[marker])
    assert match is not None
    assert len(texts) - 1 + int(match.group(1)) == 2000
    assert texts[marker + 1] == f"line {marker + int(match.group(1))}"


def test_a_failure_is_written_with_its_traceback(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path)
    writer = JobLogWriter(store, "fail-1", 1)
    try:
        raise KeyError("missing")
    except KeyError as err:
        writer.append_failure(err)
    writer.flush()
    texts = [str(line["line"]) for line in _lines(store, job_log_key("fail-1", 1))]
    assert texts[0] == "attempt failed: KeyError: 'missing'"
    assert "Traceback (most recent call last):" in texts
    assert texts[-1] == "KeyError: 'missing'"
