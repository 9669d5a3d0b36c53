"""`validate(raw_input, schema)` in runpod's shape: `{"validated_input": {...}}` or `{"errors": [...]}`.

Schema entries: `{"name": {"type": int, "required": bool, "default": x, "constraints": lambda v: bool}}`.
"""

from __future__ import annotations

from typing import Any


def validate(raw_input: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    errors: list[str] = []
    validated = dict(raw_input)
    for key in raw_input:
        if key not in schema:
            errors.append(f"Unexpected input. {key} is not a valid input option.")
    for key, rules in schema.items():
        if key not in validated:
            if rules.get("required", False):
                errors.append(f"{key} is a required input.")
            elif "default" in rules:
                validated[key] = rules["default"]
            continue
        value = validated[key]
        wanted = rules.get("type")
        if wanted is float and isinstance(value, int) and not isinstance(value, bool):
            validated[key] = value = float(value)
        if wanted is not None and value is not None and not isinstance(value, wanted):
            errors.append(f"{key} should be {wanted} type, not {type(value)}.")
            continue
        constraints = rules.get("constraints")
        if callable(constraints) and value is not None and not constraints(value):
            errors.append(f"{key} does not meet the constraints.")
    return {"errors": errors} if errors else {"validated_input": validated}
