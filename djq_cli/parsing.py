"""Parsing command-line values: JSON arguments, times and durations."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import typer

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def duration(text: str, *, option: str) -> float:
    """Seconds from "90", "90s", "15m", "2h", "7d" or "1w"."""
    match = _DURATION.match(text)
    if not match:
        raise typer.BadParameter(f"{option}: expected a duration like 90s, 15m, 2h or 7d, got {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def moment(text: str, *, option: str) -> datetime:
    """An aware time from an ISO 8601 timestamp (UTC if no offset) or "+<duration>" from now."""
    stripped = text.strip()
    if stripped.startswith("+") or _DURATION.match(stripped):
        return datetime.now(UTC) + timedelta(seconds=duration(stripped.lstrip("+"), option=option))
    try:
        value = datetime.fromisoformat(stripped)
    except ValueError:
        raise typer.BadParameter(
            f"{option}: expected an ISO 8601 time (2026-01-31T09:00:00+00:00) or +30s / +15m, got {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def json_value(text: str, *, option: str, kind: type):
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"{option}: not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(value, kind):
        expected = "a JSON array" if kind is list else "a JSON object"
        raise typer.BadParameter(f"{option}: expected {expected}, got {type(value).__name__}")
    return value
