"""gpuflow.runpod: the captured config, the job dict, RunPod's result semantics, the stand-in, local test mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gpuflow.runpod import loader, progress

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "jobs" / "runpod"


class FakeContext:
    def __init__(self, job_id: str = "job-1") -> None:
        self.job_id = job_id
        self.progressed: list[tuple[float, str | None]] = []

    def progress(self, percent: float, message: str | None = None) -> None:
        self.progressed.append((percent, message))


def test_load_captures_the_config_of_an_unmodified_file() -> None:
    definition = loader.load(EXAMPLES / "stream_handler.py", "rp-stream")
    assert definition.type == "rp-stream"
    assert definition.aggregate_stream is True
    ctx = FakeContext()
    chunks = list(definition.handler({"text": "a b", "delay": 0}, ctx))
    assert chunks == ["A", "B"]


def test_concurrency_modifier_becomes_the_capacity_and_main_blocks_run() -> None:
    assert loader.load(EXAMPLES / "async_handler.py", "rp-async").capacity == 3


def test_progress_update_reaches_the_running_jobs_context() -> None:
    definition = loader.load(EXAMPLES / "progress_handler.py", "rp-progress")
    ctx = FakeContext("p-1")
    output = definition.handler({"text": "x y", "steps": 2, "delay": 0}, ctx)
    assert output["job_id"] == "p-1"
    assert ctx.progressed == [(50.0, "1/2"), (100.0, "2/2")]


def test_error_dict_and_refresh_worker_follow_runpod() -> None:
    definition = loader.definition_of({"handler": lambda job: {"error": "bad", "x": 1}}, "rp-err")
    result = definition.handler({}, FakeContext())
    assert definition.error_result is not None and definition.error_result(result) == "bad"
    refreshing = loader.definition_of({"handler": lambda job: {"refresh_worker": True, "y": 2}}, "rp-fresh")
    assert refreshing.refresh_after_job is False
    assert refreshing.handler({}, FakeContext()) == {"y": 2}
    assert refreshing.refresh_after_job is True
    assert loader.definition_of({"handler": lambda job: {}, "refresh_worker": True}, "rp-r").refresh_after_job


def test_runpod_fields_travel_beside_the_input() -> None:
    seen: list[dict[str, Any]] = []
    definition = loader.definition_of({"handler": lambda job: seen.append(job)}, "rp-fields")
    definition.handler({"prompt": "hi", "$runpod": {"s3Config": {"bucketName": "b"}}}, FakeContext("j"))
    assert seen == [{"id": "j", "input": {"prompt": "hi"}, "s3Config": {"bucketName": "b"}}]


@pytest.mark.parametrize(
    ("value", "percent", "message"),
    [
        (42, 42.0, None),
        ("3/4", 75.0, "3/4"),
        ({"percent": 10}, 10.0, '{"percent": 10}'),
        ("warming up", 0.0, "warming up"),
    ],
)
def test_progress_values(value: Any, percent: float, message: str | None) -> None:
    ctx = FakeContext("pv")
    progress.register("pv", ctx)
    try:
        progress.progress_update({"id": "pv"}, value)
    finally:
        progress.unregister("pv")
    assert ctx.progressed == [(percent, message)]


def test_the_stand_in_serves_when_runpod_is_not_installed(tmp_path: Path) -> None:
    # A fresh interpreter in which `import runpod` finds nothing (sys.modules entry None), as without the package.
    script = (
        "import sys; sys.modules['runpod'] = None\n"
        "from gpuflow.runpod import loader\n"
        f"d = loader.load({str(EXAMPLES / 'error_handler.py')!r}, 'rp-e')\n"
        "import runpod\n"
        "class Ctx:\n    job_id = 'j'\n"
        "print(runpod.__version__, d.type, d.handler({'text': ''}, Ctx()))\n"
    )
    src = str(Path(loader.__file__).resolve().parents[2])
    run = subprocess.run(
        [sys.executable, "-c", script], env={"PYTHONPATH": src}, capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    assert "gpuflow-standin rp-e {'error': 'text is empty'}" in run.stdout


def _run_directly(file: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"RUNPOD_SKIP_AUTO_SYSTEM_CHECKS": "true", "RUNPOD_SKIP_GPU_CHECK": "true", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, file, *args], cwd=EXAMPLES, env=env, capture_output=True, text=True, timeout=90, check=False
    )


def test_python_handler_py_with_test_input_is_runpods_own_local_test() -> None:
    run = _run_directly("async_handler.py", "--test_input", json.dumps({"input": {"text": "abc", "delay": 0}}))
    assert run.returncode == 0, run.stderr
    assert "'reversed': 'cba'" in run.stdout + run.stderr
    # Without --test_input, test_input.json beside it (the cwd) is the job.
    from_file = _run_directly("error_handler.py")
    assert from_file.returncode == 0, from_file.stderr
    assert "'length': 25" in from_file.stdout + from_file.stderr
    raising = _run_directly("raising_handler.py")
    assert raising.returncode == 1
