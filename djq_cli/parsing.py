"""Parsing command-line values: JSON arguments, times and durations."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import typer

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
#: The longest duration accepted: 100 years, so that now ± it is always a date.
MAX_DURATION = 36500 * 86400
#: JSON values nested deeper than djq stores (djq.payload.MAX_DEPTH) are refused here.
MAX_JSON_DEPTH = 64


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37]) + "..."


def duration(text: str, *, option: str) -> float:
    """Seconds from "90", "90s", "15m", "2h", "7d" or "1w", at most 100 years."""
    match = _DURATION.match(text)
    if not match:
        raise typer.BadParameter(f"{option}: expected a duration like 90s, 15m, 2h or 7d, got {_shown(text)}")
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if not seconds <= MAX_DURATION:
        raise typer.BadParameter(f"{option}: a duration is at most 36500d (100 years), got {_shown(text)}")
    return seconds


def moment(text: str, *, option: str) -> datetime:
    """An aware time from an ISO 8601 timestamp (UTC if no offset) or "+<duration>" from now."""
    stripped = text.strip()
    if stripped.startswith("+") or _DURATION.match(stripped):
        return datetime.now(UTC) + timedelta(seconds=duration(stripped.lstrip("+"), option=option))
    try:
        value = datetime.fromisoformat(stripped)
    except ValueError:
        raise typer.BadParameter(
            f"{option}: expected an ISO 8601 time (2026-01-31T09:00:00+00:00) or +30s / +15m, got {_shown(text)}"
        ) from None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is in the year 10000 in UTC
        raise typer.BadParameter(f"{option}: {_shown(text)} is after the year 9999 in UTC") from None


class _NotJson(ValueError):
    pass


def _refuse_constant(name: str):
    raise _NotJson(f"{name} is not a JSON number (only finite numbers are)")


def _depth(value) -> int:
    """How deeply lists and objects nest in a parsed JSON value (without recursing)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            if deepest > MAX_JSON_DEPTH:
                break
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def json_value(text: str, *, option: str, kind: type):
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"{option}: not valid JSON ({exc.msg} at position {exc.pos})") from None
    except RecursionError:
        raise typer.BadParameter(f"{option}: JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # NaN, Infinity, an integer of over 4,300 digits
        raise typer.BadParameter(f"{option}: not valid JSON ({exc})") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise typer.BadParameter(f"{option}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    if not isinstance(value, kind):
        expected = "a JSON array" if kind is list else "a JSON object"
        raise typer.BadParameter(f"{option}: expected {expected}, got {type(value).__name__}")
    return value
