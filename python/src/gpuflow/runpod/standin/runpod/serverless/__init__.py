# mypy: disable-error-code="import-untyped"
"""`runpod.serverless` of gpuflow's stand-in. Under `gpuflow-worker --runpod`, gpuflow replaces `start` and
`progress_update`; run directly (`python handler.py --test_input '{...}'`), `start` runs one local test job as
RunPod's does (from `--test_input`, else `./test_input.json`)."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import sys
from pathlib import Path
from typing import Any

from runpod.serverless import utils
from runpod.serverless.modules.rp_logger import RunPodLogger

__all__ = ["progress_update", "start", "utils"]


def progress_update(job: dict[str, Any], progress: Any) -> None:
    """Outside gpuflow (a local test) progress goes to the log."""
    RunPodLogger().info(f"progress: {json.dumps(progress, default=str)}", job.get("id"))


def start(config: dict[str, Any]) -> None:
    parser = argparse.ArgumentParser(prog="runpod")
    parser.add_argument("--test_input", type=str, default=None)
    args, _ = parser.parse_known_args()
    if args.test_input is not None:
        job = json.loads(args.test_input)
    elif Path("test_input.json").is_file():
        job = json.loads(Path("test_input.json").read_text(encoding="utf-8"))
    else:
        print("runpod stand-in: no --test_input and no test_input.json; this is no RunPod worker", file=sys.stderr)
        sys.exit(1)
    if not isinstance(job, dict) or "input" not in job:
        print("runpod stand-in: the test job needs an 'input'", file=sys.stderr)
        sys.exit(1)
    job.setdefault("id", "local_test")
    handler = config["handler"]
    if inspect.isasyncgenfunction(handler):

        async def collect() -> list[Any]:
            return [chunk async for chunk in handler(job)]

        output: Any = asyncio.run(collect())
    elif inspect.isgeneratorfunction(handler):
        output = list(handler(job))
    else:
        output = handler(job)
        if inspect.isawaitable(output):
            output = asyncio.run(_awaited(output))
    result = {"error": output["error"]} if isinstance(output, dict) and output.get("error") else {"output": output}
    print(f"--- Job Result: {json.dumps(result, default=str)}")
    sys.exit(1 if "error" in result else 0)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable
