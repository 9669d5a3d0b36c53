"""``gpuflow-worker``: serve handler files (``gpuflow-worker handlers.py``), or try one job locally
(``gpuflow-worker test handlers.py --type T --input '{...}'``). Also ``python -m gpuflow worker|test``."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .job import JobDefinition


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("expected a whole number of at least 1")
    return number


def _seconds(value: str) -> float:
    number = float(value)
    if not number >= 0:
        raise argparse.ArgumentTypeError("expected a number of seconds (0 or more)")
    return number


def _port(value: str) -> int:
    number = int(value)
    if not 0 < number < 65536:
        raise argparse.ArgumentTypeError("expected a port number (1 .. 65535)")
    return number


def _add_sources(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", help="handler files (.py) that define @gpuflow.job(...)")
    parser.add_argument("--runpod", metavar="FILE", help="an unmodified RunPod Serverless handler file")
    parser.add_argument("--type", dest="job_type", metavar="T", help="the job type (required with --runpod)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gpuflow-worker", description="gpuflow job worker for Python handlers")
    commands = parser.add_subparsers(dest="command")
    worker = commands.add_parser("worker", help="serve the job types of the given files (the default command)")
    _add_sources(worker)
    worker.add_argument("--capacity", type=_positive_int, default=1, help="jobs of each type run at once (1)")
    worker.add_argument(
        "--grace", type=_seconds, default=30.0, help="on SIGTERM/SIGINT, how long running jobs may finish (30 s)"
    )
    worker.add_argument("--idle-exit", type=_seconds, help="exit (code 0) after this long with no job running")
    worker.add_argument("--identity", help="worker id shown in job views (default <hostname>-<pid>)")
    worker.add_argument("--metrics-port", type=_port, help="serve this worker's Prometheus /metrics on this port")
    worker.add_argument(
        "--sdk-metrics-port", type=_port, help="the Temporal SDK's Prometheus metrics port (default --metrics-port + 1)"
    )
    worker.add_argument("--metrics-host", default="0.0.0.0", help="address the metrics listen on (0.0.0.0)")
    test = commands.add_parser("test", help="run one job in this process, without Temporal, and print what it does")
    _add_sources(test)
    test.add_argument("--input", help="the input as JSON (default: test_input.json beside the file)")
    return parser


def load_definitions(files: Sequence[str], runpod: str | None, job_type: str | None) -> list[JobDefinition]:
    definitions: list[JobDefinition] = []
    if runpod is not None:
        if not job_type:
            raise ValueError("--runpod needs --type: the job type the RunPod handler serves")
        # Imported when asked for: the RunPod layer is optional and brings its own dependencies.
        runpod_layer: Any = importlib.import_module("gpuflow.runpod")
        definitions.append(runpod_layer.load(runpod, job_type))
    if files:
        from .loader import load_modules

        definitions.extend(load_modules(files))
    if not definitions:
        raise ValueError("name at least one handler file (or --runpod FILE --type T)")
    return definitions


def _test_input(args: argparse.Namespace) -> Any:
    if args.input is not None:
        return json.loads(args.input)
    first = args.runpod or args.files[0]
    beside = Path(first).resolve().parent / "test_input.json"
    if not beside.is_file():
        raise ValueError(f"no --input given and no {beside}")
    value = json.loads(beside.read_text("utf-8"))
    # RunPod's test_input.json wraps the input: {"input": {...}}.
    return value["input"] if isinstance(value, dict) and set(value) == {"input"} else value


def _run_test(args: argparse.Namespace) -> int:
    from .testing import run_local

    definitions = load_definitions(args.files, args.runpod, args.job_type)
    if args.job_type:
        chosen = [definition for definition in definitions if definition.type == args.job_type]
        if not chosen:
            known = ", ".join(definition.type for definition in definitions)
            raise ValueError(f'no job type "{args.job_type}" in the given files (they define {known})')
    elif len(definitions) == 1:
        chosen = definitions
    else:
        raise ValueError("the files define several job types: choose one with --type")
    result = run_local(chosen[0], _test_input(args))
    for name, (body, content_type) in result.artifacts.items():
        print(f"artifact: {name} ({len(body)} bytes, {content_type})", file=sys.stderr)
    if not result.ok:
        retry = "retryable" if result.retryable else "not retryable"
        print(f"error: {result.error_type}: {result.error} ({retry})", file=sys.stderr)
        return 1
    print(json.dumps(result.output, ensure_ascii=False, indent=2))
    return 0


def _run_worker(args: argparse.Namespace) -> int:
    from .config import EnvError, load_env
    from .worker import run_worker

    try:
        env = load_env()
    except EnvError as err:
        print(f"gpuflow-worker: {err}", file=sys.stderr)
        return 2
    definitions = load_definitions(args.files, args.runpod, args.job_type)
    asyncio.run(
        run_worker(
            definitions,
            env,
            capacity=args.capacity,
            grace_s=args.grace,
            idle_exit_s=args.idle_exit,
            identity=args.identity,
            metrics_port=args.metrics_port,
            sdk_metrics_port=args.sdk_metrics_port,
            metrics_host=args.metrics_host,
        )
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # `gpuflow-worker handlers.py ...` is `gpuflow-worker worker handlers.py ...`.
    if not arguments or arguments[0] not in {"worker", "test", "-h", "--help"}:
        arguments = ["worker", *arguments]
    args = _parser().parse_args(arguments)
    try:
        return _run_test(args) if args.command == "test" else _run_worker(args)
    except (ValueError, FileNotFoundError, ImportError) as err:
        print(f"gpuflow-worker: {err}", file=sys.stderr)
        return 2 if args.command != "test" else 1


if __name__ == "__main__":
    raise SystemExit(main())
