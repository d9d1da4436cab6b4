"""The JSON data contract for arguments and return values.

A value is stored only if it round-trips through JSON and every supported
database can hold it: finite numbers, integers within 64 bits, string keys, valid Unicode text (no
lone surrogates), no NUL character where the database refuses it
(PostgreSQL's ``jsonb``), at most ``MAX_DEPTH`` levels of nesting, and at
most ``max_bytes`` of UTF-8 JSON (``OPTIONS["max_payload_size"]``).
"""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

from .exceptions import EnqueueError

__all__ = ["DEFAULT_MAX_BYTES", "MAX_DEPTH", "encode_arguments", "encode_result", "payload_problem"]

#: Default cap on one job's arguments, and on one return value, as UTF-8 JSON.
DEFAULT_MAX_BYTES = 1024 * 1024
#: Lists and objects nested deeper than this are refused.
MAX_DEPTH = 64
#: Integers outside 64 bits do not round-trip everywhere (MySQL's JSON turns them into floats).
INT_RANGE = (-(2**63), 2**63 - 1)

_dumps = json.JSONEncoder(allow_nan=False, separators=(",", ":"), ensure_ascii=False).encode


def _shown(value: Any) -> str:
    """A short repr for a message: a path never quotes a megabyte key."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text_problem(text: str, path: str, allow_nul: bool) -> str | None:
    if not allow_nul and "\x00" in text:
        return f"{path}: text contains a NUL character (\\x00), which PostgreSQL cannot store"
    if text.isascii():  # the common case, and O(1)
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"{path}: text contains a lone surrogate ({text[exc.start]!r}), which is not valid Unicode"
    return None


def _problem(value: Any, path: str, allow_nul: bool, depth: int = 0) -> str | None:
    """Where ``value`` stops being storable JSON, or None if it is."""
    kind = type(value)
    if value is None or kind is bool:
        return None
    if isinstance(value, int):  # subclasses too: enums and the like
        if INT_RANGE[0] <= value <= INT_RANGE[1]:
            return None
        return f"{path}: integer outside -2**63 .. 2**63-1, the 64-bit range every database stores"
    if isinstance(value, str):
        return _text_problem(value, path, allow_nul)
    if isinstance(value, float):  # subclasses too: numpy.float64 can be nan
        return None if math.isfinite(value) else f"{path}: {value!r} is not a finite number"
    if isinstance(value, (dict, list, tuple)) and depth >= MAX_DEPTH:
        return f"{path}: nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path}: dict key {_shown(key)} is not a string"
            found = _text_problem(key, f"{path} key {_shown(key)}", allow_nul) or _problem(
                item, f"{path}[{_shown(key)}]", allow_nul, depth + 1
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
    return f"{path}: {type(value).__name__} is not JSON-serialisable"


def payload_problem(value: Any, path: str, *, allow_nul: bool = True) -> str | None:
    """The first reason ``value`` cannot be stored, naming where it is; None if it can."""
    try:
        return _problem(value, path, allow_nul)
    except RecursionError:
        return f"{path}: a value contains itself"


def _exact_floats(value: Any, found: dict[str, float], token: str) -> Any:
    if isinstance(value, float) and not isinstance(value, bool) and abs(value) >= 1e16:
        marker = f"{token}{len(found)}"
        found[marker] = value
        return marker
    if isinstance(value, dict):
        return {key: _exact_floats(item, found, token) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_exact_floats(item, found, token) for item in value]
    return value


def _dumps_keeping_floats(value: Any) -> str:
    """JSON text in which a float of 1e16 or more keeps a decimal point.

    Python writes it with an exponent (``5.8e+16``); PostgreSQL's jsonb keeps
    that as the integer 58000000000000000, so it would read back as an int.
    Written in full with ``.0`` it reads back as the same float everywhere.
    """
    text = _dumps(value)
    if "e+" not in text:  # the common case: no such float (or only in a string)
        return text
    found: dict[str, float] = {}
    token = f"djq-float-{uuid.uuid4().hex}-"
    text = _dumps(_exact_floats(value, found, token))
    for marker, number in found.items():
        text = text.replace(f'"{marker}"', format(number, ".1f"), 1)
    return text


def _encode(value: Any, what: str, max_bytes: int) -> str:
    text = _dumps_keeping_floats(value)
    size = len(text) if text.isascii() else len(text.encode("utf-8"))
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
