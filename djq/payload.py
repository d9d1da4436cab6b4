"""The JSON data contract for arguments and return values.

A value is stored only if it round-trips through JSON and every supported
database can hold it: finite numbers, string keys, valid Unicode text (no
lone surrogates), no NUL character where the database refuses it
(PostgreSQL's ``jsonb``), at most ``MAX_DEPTH`` levels of nesting, and at
most ``max_bytes`` of UTF-8 JSON (``OPTIONS["max_payload_size"]``).
"""

from __future__ import annotations

import json
import math
from typing import Any

from .exceptions import EnqueueError

__all__ = ["DEFAULT_MAX_BYTES", "MAX_DEPTH", "encode_arguments", "encode_result", "payload_problem"]

#: Default cap on one job's arguments, and on one return value, as UTF-8 JSON.
DEFAULT_MAX_BYTES = 1024 * 1024
#: Lists and objects nested deeper than this are refused.
MAX_DEPTH = 64

_dumps = json.JSONEncoder(allow_nan=False, separators=(",", ":"), ensure_ascii=False).encode


def _text_problem(text: str, path: str, allow_nul: bool) -> str | None:
    if not allow_nul and "\x00" in text:
        return f"{path}: text contains a NUL character (\\x00), which PostgreSQL cannot store"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"{path}: text contains a lone surrogate ({text[exc.start]!r}), which is not valid Unicode"
    return None


def _problem(value: Any, path: str, allow_nul: bool, depth: int = 0) -> str | None:
    """Where ``value`` stops being storable JSON, or None if it is."""
    kind = type(value)
    if value is None or kind is bool or kind is int:
        return None
    if isinstance(value, str):
        return _text_problem(value, path, allow_nul)
    if isinstance(value, float):  # subclasses too: numpy.float64 can be nan
        return None if math.isfinite(value) else f"{path}: {value!r} is not a finite number"
    if isinstance(value, (dict, list, tuple)) and depth >= MAX_DEPTH:
        return f"{path}: nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path}: dict key {key!r} is not a string"
            found = _text_problem(key, f"{path} key {key!r}", allow_nul) or _problem(
                item, f"{path}[{key!r}]", allow_nul, depth + 1
            )
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _problem(item, f"{path}[{index}]", allow_nul, depth + 1)
            if found:
                return found
        return None
    if isinstance(value, int):  # subclasses: enums and the like
        return None
    return f"{path}: {type(value).__name__} is not JSON-serialisable"


def payload_problem(value: Any, path: str, *, allow_nul: bool = True) -> str | None:
    """The first reason ``value`` cannot be stored, naming where it is; None if it can."""
    try:
        return _problem(value, path, allow_nul)
    except RecursionError:
        return f"{path}: a value contains itself"


def _encode(value: Any, what: str, max_bytes: int) -> str:
    text = _dumps(value)
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise ValueError(
            f"{what} {'are' if what == 'arguments' else 'is'} {size:,} bytes of JSON,"
            f" over the limit of {max_bytes:,} (OPTIONS['max_payload_size'])"
        )
    return text


def encode_arguments(
    args: Any, kwargs: Any, *, allow_nul: bool = True, max_bytes: int = DEFAULT_MAX_BYTES
) -> str:
    """The job payload as JSON text; raises EnqueueError naming the first bad value."""
    args, kwargs = list(args), dict(kwargs)
    problem = payload_problem(args, "args", allow_nul=allow_nul) or payload_problem(
        kwargs, "kwargs", allow_nul=allow_nul
    )
    if problem:
        raise EnqueueError(f"arguments must round-trip through JSON: {problem}")
    try:
        return _encode({"args": args, "kwargs": kwargs}, "arguments", max_bytes)
    except ValueError as exc:
        raise EnqueueError(str(exc)) from None


def encode_result(value: Any, *, allow_nul: bool = True, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """A return value as JSON text; raises ValueError when it could not be stored."""
    problem = payload_problem(value, "return value", allow_nul=allow_nul)
    if problem:
        raise ValueError(problem)
    return _encode(value, "the return value", max_bytes)
