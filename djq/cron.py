"""Cron schedules for recurring tasks.

An expression has five fields (minute, hour, day of month, month, day of
week), optionally a sixth trailing *seconds* field (croniter's convention), or
is one of the aliases ``@yearly``, ``@annually``, ``@monthly``, ``@weekly``,
``@daily``, ``@midnight`` and ``@hourly``. A trailing IANA time zone name pins
the schedule to that zone::

    "0 3 * * *"                  03:00 in the default time zone
    "*/10 * * * * 30"            every ten minutes, at 30 seconds past
    "0 3 * * * Europe/Paris"     03:00 in Paris, whatever TIME_ZONE says
    "@daily America/New_York"    midnight in New York

Daylight saving: a wall-clock time skipped by a spring-forward transition
fires at the first instant after the gap. A fixed-hour schedule that falls in
the hour repeated by a fall-back transition fires once, on the first pass; a
schedule whose hour field starts with ``*`` fires on both passes, because it
describes an interval rather than a time of day.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadDateError, CroniterError, croniter

from djq.exceptions import ConfigurationError

__all__ = ["ALIASES", "InvalidSchedule", "Schedule", "parse_schedule"]

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week", "second")
# A fixed reference start keeps "does this ever fire?" deterministic.
_PROBE_START = datetime(2000, 1, 1, tzinfo=UTC)


class InvalidSchedule(ConfigurationError):
    """The cron schedule is invalid; use five fields (plus optional seconds) or an @alias."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """A validated cron schedule bound to a time zone."""

    expression: str
    """The expression as written, time zone suffix included."""
    cron: str
    """The croniter expression: five fields, or six with trailing seconds."""
    timezone: tzinfo
    explicit_timezone: bool = False
    """True when the expression named its own time zone."""

    def __str__(self) -> str:
        return self.expression

    @property
    def has_seconds(self) -> bool:
        return len(self.cron.split()) == 6

    def next_after(self, dt: datetime) -> datetime:
        """The first occurrence strictly after ``dt``, in UTC."""
        it = croniter(self.cron, _aware(dt).astimezone(self.timezone))
        while True:
            candidate = it.get_next(datetime)
            if not self._repeats_earlier_pass(candidate):
                return candidate.astimezone(UTC)

    def previous_at_or_before(self, dt: datetime) -> datetime:
        """The latest occurrence at or before ``dt``, in UTC."""
        # croniter's get_prev is strict; one microsecond later makes it inclusive
        # because occurrences never carry microseconds.
        start = _aware(dt).astimezone(self.timezone) + timedelta(microseconds=1)
        it = croniter(self.cron, start)
        while True:
            candidate = it.get_prev(datetime)
            if not self._repeats_earlier_pass(candidate):
                return candidate.astimezone(UTC)

    def describe(self) -> str:
        """The schedule in words, e.g. "At 03:00"; the expression if that fails."""
        from cron_descriptor import get_description

        fields = self.cron.split()
        if len(fields) == 6:
            # cron-descriptor reads a six-field expression with seconds first.
            fields = [fields[5], *fields[:5]]
        try:
            text = get_description(" ".join(fields))
        except Exception:
            return self.expression
        if self.explicit_timezone:
            text = f"{text} ({_zone_name(self.timezone)})"
        return text

    def _repeats_earlier_pass(self, local: datetime) -> bool:
        if local.fold == 0 or self.cron.split()[1].startswith("*"):
            return False
        # Only a second pass through a repeated (ambiguous) hour is a repeat.
        return local.replace(fold=0).utcoffset() != local.utcoffset()


def parse_schedule(expression: str, default_tz: tzinfo | None = None) -> Schedule:
    """Validate ``expression`` and return a :class:`Schedule`.

    Without a time zone suffix the schedule uses ``default_tz``, or Django's
    default time zone (``TIME_ZONE``) when that is None.
    """
    if not isinstance(expression, str):
        raise InvalidSchedule(f"invalid cron schedule {expression!r}: expected a string")
    tokens = expression.split()
    if not tokens:
        raise _invalid(expression, "the expression is empty")

    zone: tzinfo | None = None
    if len(tokens) > (1 if tokens[0].startswith("@") else 5) and re.search("[A-Za-z]", tokens[-1]):
        zone = _load_zone(expression, tokens.pop())

    expand = _expand_alias if tokens[0].startswith("@") else _check_fields
    cron = expand(expression, tokens)

    explicit = zone is not None
    if zone is None:
        zone = default_tz if default_tz is not None else _django_default_tz()
    return Schedule(expression=expression, cron=cron, timezone=zone, explicit_timezone=explicit)


def _expand_alias(expression: str, tokens: list[str]) -> str:
    alias = tokens[0]
    if alias not in ALIASES:
        hint = _hint(alias.lower(), ALIASES)
        raise _invalid(expression, f"unknown alias {alias!r}{hint}")
    if len(tokens) > 1:
        raise _invalid(expression, f"unexpected {tokens[1]!r} after {alias!r}")
    return ALIASES[alias]


def _check_fields(expression: str, tokens: list[str]) -> str:
    if len(tokens) not in (5, 6):
        raise _invalid(expression, f"expected 5 fields (or 6 with seconds), got {len(tokens)}")
    for index, token in enumerate(tokens):
        # Test each field alone so the message can say which one is wrong.
        probe = ["*"] * len(tokens)
        probe[index] = token
        try:
            croniter(" ".join(probe), _PROBE_START)
        except CroniterError as exc:
            detail = "is out of range" if "out of range" in str(exc) else "is not valid"
            raise _invalid(expression, f"{_FIELD_NAMES[index]} field {token!r} {detail}") from None
    cron = " ".join(tokens)
    try:
        croniter(cron, _PROBE_START).get_next(datetime)
    except CroniterBadDateError:
        raise _invalid(expression, "it never matches any date") from None
    except CroniterError as exc:
        raise _invalid(expression, _croniter_reason(exc)) from None
    return cron


def _load_zone(expression: str, name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name
        hint = _hint(name, available_timezones())
        raise _invalid(expression, f"unknown time zone {name!r}{hint}") from None


def _django_default_tz() -> tzinfo:
    from django.utils import timezone

    return timezone.get_default_timezone()


def _aware(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {dt!r}")
    return dt


def _zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def _croniter_reason(exc: Exception) -> str:
    # croniter prefixes messages with the bracketed expression; drop it.
    return re.sub(r"^\[.*?\]\s*", "", str(exc)) or type(exc).__name__


def _hint(word: str, choices) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _invalid(expression: str, reason: str) -> InvalidSchedule:
    return InvalidSchedule(f"invalid cron schedule {expression!r}: {reason}")
