import json
import subprocess
import sys
from pathlib import Path

import handlers  # type: ignore[import-not-found]

from gpuflow.testing import run_local

SRC = Path(__file__).resolve().parents[1] / "src"


def test_a_sync_handler_runs_with_setup_progress_and_log() -> None:
    lines: list[str] = []
    result = run_local(handlers.sync_job, {"steps": 2}, print_line=lines.append)
    assert result.ok and result.output == {"steps": 2, "model": "loaded", "resume": None}
    assert result.progress == [{"percent": 50, "message": "step 1"}, {"percent": 100, "message": "step 2"}]
    assert result.log == ["done with 2"]
    assert lines == ["progress: 50% step 1", "progress: 100% step 2", "log: done with 2"]


def test_async_generator_and_async_generator_handlers() -> None:
    assert run_local(handlers.async_job, [1, 2]).output == {"echo": [1, 2]}
    gen = run_local(handlers.gen_job, None)
    assert (gen.chunks, gen.output) == (["one", "two"], ["one", "two"])
    agen = run_local(handlers.agen_job, None)
    assert (agen.chunks, agen.output) == ([{"token": "a"}, None], None)


def test_errors_come_back_typed() -> None:
    fail = run_local(handlers.fail_job, None)
    assert (fail.error, fail.error_type, fail.retryable) == ("bad image", "JobError", False)
    crash = run_local(handlers.crash_job, None)
    assert (crash.error_type, crash.retryable) == ("KeyError", True)
    invalid = run_local(handlers.sync_job, {"steps": "many"})
    assert invalid.error_type == "ValidationError" and invalid.retryable is False
    assert invalid.error is not None and invalid.error.startswith("input.steps: ")


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gpuflow", "test", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )


def test_the_test_command_prints_progress_and_the_output(tmp_path: Path) -> None:
    here = Path(handlers.__file__)
    done = run_cli(str(here), "--type", "sync-job", "--input", '{"steps": 1}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["steps"] == 1 and "progress: 100% step 1" in done.stderr
    failed = run_cli(str(here), "--type", "fail-job", "--input", "null")
    assert failed.returncode == 1 and "error: JobError: bad image (not retryable)" in failed.stderr
    # test_input.json beside the file, RunPod's habit ({"input": ...} unwrapped).
    (tmp_path / "one.py").write_text(here.read_text().split('@gpuflow.job("async-job")')[0])
    (tmp_path / "test_input.json").write_text('{"input": {"steps": 3}}')
    beside = run_cli(str(tmp_path / "one.py"), "--type", "sync-job")
    assert beside.returncode == 0, beside.stderr
    assert json.loads(beside.stdout)["steps"] == 3
