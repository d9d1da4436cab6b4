"""The JSON data contract for arguments and return values."""

from __future__ import annotations

import json
import math
from typing import Any

from .exceptions import ArgumentsNotSerializable

_dumps = json.JSONEncoder(allow_nan=False, separators=(",", ":"), ensure_ascii=False).encode


def _problem(value: Any, path: str) -> str | None:
    """Where ``value`` stops being plain JSON, or None if it is."""
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int:
        return None
    if isinstance(value, float):  # subclasses too: numpy.float64 can be nan
        return None if math.isfinite(value) else f"{path}: {value!r} is not a finite number"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path}: dict key {key!r} is not a string"
            found = _problem(item, f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _problem(item, f"{path}[{index}]")
            if found:
                return found
        return None
    if isinstance(value, (str, int, float)):  # subclasses: enums and the like
        return None
    return f"{path}: {type(value).__name__} is not JSON-serialisable"


def encode_arguments(args: Any, kwargs: Any) -> str:
    """The job payload as JSON text; raises EnqueueError naming the first bad value."""
    try:
        problem = _problem(list(args), "args") or _problem(dict(kwargs), "kwargs")
    except RecursionError:
        problem = "a value contains itself (or is nested too deeply)"
    if problem:
        raise ArgumentsNotSerializable(f"arguments must round-trip through JSON: {problem}")
    return _dumps({"args": list(args), "kwargs": dict(kwargs)})


def encode_result(value: Any) -> str:
    """A return value as JSON text; raises ValueError when it would not round-trip."""
    problem = _problem(value, "return value")
    if problem:
        raise ValueError(problem)
    return _dumps(value)
