"""Importing handler files and collecting their job definitions."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

from .job import JobDefinition


def load_modules(paths: Sequence[str | Path]) -> list[JobDefinition]:
    """Imports each handler file and collects every :class:`JobDefinition` it defines at module level (a list or
    tuple of them counts too). Two definitions of one type are an error, not a silent override."""
    if not paths:
        raise ValueError("no handler files given: name at least one .py file that defines @gpuflow.job(...)")
    by_type: dict[str, tuple[JobDefinition, str]] = {}
    for raw in paths:
        path = Path(raw).resolve()
        module = _import_file(path)
        found: list[JobDefinition] = []
        for value in vars(module).values():
            for candidate in value if isinstance(value, list | tuple) else [value]:
                if isinstance(candidate, JobDefinition) and candidate not in found:
                    found.append(candidate)
        if not found:
            raise ValueError(f'{raw} defines no job: decorate a handler with @gpuflow.job("type")')
        for definition in found:
            earlier = by_type.get(definition.type)
            if earlier is not None and earlier[0] is not definition:
                raise ValueError(f'job type "{definition.type}" is defined twice: in {earlier[1]} and in {raw}')
            by_type[definition.type] = (definition, str(raw))
    return [definition for definition, _ in by_type.values()]


def _import_file(path: Path) -> object:
    if not path.is_file():
        raise FileNotFoundError(f"no handler file {path}")
    name = f"gpuflow_handlers_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    # Beside the file: its own helper modules import as they would with `python handlers.py`.
    sys.path.insert(0, str(path.parent))
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
