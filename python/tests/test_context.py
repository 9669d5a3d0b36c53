from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from gpuflow.context import AttemptState, Context
from gpuflow.protocol import describe_validation_error, is_heartbeat_details
from gpuflow.testing import MemoryBlobStore


def make(store: Any = None, previous: Any = None) -> tuple[Context, AttemptState, list[str], list[int]]:
    printed: list[str] = []
    changes: list[int] = []
    state = AttemptState(previous=previous, print_line=printed.append, on_change=lambda: changes.append(1))
    ctx = Context(job_id="job_1", attempt=2, worker_id="w", resources={"m": 1}, state=state, store=store)
    return ctx, state, printed, changes


def test_progress_is_clamped_rounded_and_cut() -> None:
    ctx, state, _, changes = make()
    ctx.progress(3.3583333333, "x" * 3000)
    details = state.details()
    assert details["progress"]["percent"] == 3.36
    assert len(details["progress"]["message"]) == 2000
    ctx.progress(150)
    assert state.details()["progress"] == {"percent": 100, "message": None}
    ctx.progress(float("nan"))
    assert state.details()["progress"]["percent"] == 0
    assert len(changes) == 3
    assert is_heartbeat_details(state.details())


def test_log_keeps_the_newest_20_lines_each_cut_to_2000_characters() -> None:
    ctx, state, printed, _ = make()
    for i in range(25):
        ctx.log("line", i, {"k": i})
    ctx.log("y" * 5000)
    log = state.details()["log"]
    assert len(log) == 20 and log[0] == 'line 6 {"k": 6}' and len(log[-1]) == 2000
    assert len(printed) == 26


def test_a_checkpoint_must_be_json_of_at_most_256_kib() -> None:
    ctx, state, _, _ = make()
    ctx.checkpoint({"tile": 3})
    assert state.details()["checkpoint"] == {"tile": 3}
    with pytest.raises(ValueError, match="262144 bytes"):
        ctx.checkpoint("x" * 262_144)
    with pytest.raises(TypeError, match="must be JSON"):
        ctx.checkpoint({1, 2})


def test_the_previous_checkpoint_and_artifacts_are_carried() -> None:
    previous = {
        "progress": None,
        "log": [],
        "checkpoint": {"step": 4},
        "artifacts": [{"name": "a.png", "size": 1, "contentType": "image/png"}],
    }
    _, state, _, _ = make(previous=previous)
    assert state.details() == {"progress": None, "log": [], **{k: previous[k] for k in ("checkpoint", "artifacts")}}


def test_artifacts_are_stored_listed_and_replaced() -> None:
    store = MemoryBlobStore()
    ctx, state, _, _ = make(store=store)
    assert ctx.artifact("out.png", b"\x89PNG", "image/png") == {
        "name": "out.png",
        "size": 4,
        "contentType": "image/png",
    }
    ctx.artifact("out.png", "text")
    assert state.details()["artifacts"] == [{"name": "out.png", "size": 4, "contentType": "application/octet-stream"}]
    assert store.get("artifacts/job_1/out.png") is not None
    with pytest.raises(ValueError, match="invalid name"):
        ctx.artifact("../x", b"")
    with pytest.raises(ValueError, match="content type"):
        ctx.artifact("x", b"", "not a type")


def test_an_artifact_without_a_store_says_so() -> None:
    ctx, _, _, _ = make()
    with pytest.raises(RuntimeError, match="no blob store"):
        ctx.artifact("x.txt", "x")


def test_the_validation_message_names_each_field_like_the_ts_side() -> None:
    class Upscale(BaseModel):
        image_url: str
        scale: int = 2

    with pytest.raises(ValidationError) as caught:
        Upscale.model_validate({"scale": "big"})
    assert describe_validation_error(caught.value) == (
        "input.image_url: Field required; input.scale: Input should be a valid integer, unable to parse string as an "
        "integer"
    )


def test_heartbeat_details_of_another_worker_are_checked() -> None:
    assert is_heartbeat_details({"progress": {"percent": 10, "message": None}, "log": ["a"], "checkpoint": 1})
    assert not is_heartbeat_details({"progress": {"percent": 200, "message": None}, "log": []})
    assert not is_heartbeat_details({"progress": None})
    assert not is_heartbeat_details({"progress": None, "log": [], "artifacts": [{"name": ".x"}]})
    assert not is_heartbeat_details(None)
