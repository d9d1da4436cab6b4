"""Cron schedules: fields, seconds, aliases, time zones, errors, DST."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from djq.cron import InvalidSchedule, parse_schedule
from djq.exceptions import ConfigurationError

PARIS = ZoneInfo("Europe/Paris")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_five_fields_next_and_previous():
    schedule = parse_schedule("0 3 * * *", UTC)
    assert schedule.next_after(utc(2025, 1, 1, 12)) == utc(2025, 1, 2, 3)
    assert schedule.previous_at_or_before(utc(2025, 1, 1, 12)) == utc(2025, 1, 1, 3)
    assert not schedule.has_seconds


def test_next_after_is_strict_and_previous_is_inclusive():
    schedule = parse_schedule("0 3 * * *", UTC)
    at = utc(2025, 1, 1, 3)
    assert schedule.next_after(at) == utc(2025, 1, 2, 3)
    assert schedule.previous_at_or_before(at) == at
    assert schedule.previous_at_or_before(at - timedelta(microseconds=1)) == utc(2024, 12, 31, 3)


def test_results_are_utc():
    result = parse_schedule("0 3 * * *", PARIS).next_after(utc(2025, 1, 1))
    assert result == utc(2025, 1, 1, 2)
    assert result.tzinfo is UTC


def test_trailing_seconds_field():
    schedule = parse_schedule("*/10 * * * * 30", UTC)
    assert schedule.has_seconds
    assert schedule.next_after(utc(2025, 1, 1, 0, 0, 30)) == utc(2025, 1, 1, 0, 10, 30)
    assert schedule.previous_at_or_before(utc(2025, 1, 1, 0, 5)) == utc(2025, 1, 1, 0, 0, 30)


@pytest.mark.parametrize(
    ("shortcut", "after", "expected"),
    [
        ("@yearly", utc(2025, 3, 1), utc(2026, 1, 1)),
        ("@annually", utc(2025, 3, 1), utc(2026, 1, 1)),
        ("@monthly", utc(2025, 3, 5), utc(2025, 4, 1)),
        ("@weekly", utc(2025, 3, 5), utc(2025, 3, 9)),  # Sunday midnight
        ("@daily", utc(2025, 3, 5, 8), utc(2025, 3, 6)),
        ("@midnight", utc(2025, 3, 5, 8), utc(2025, 3, 6)),
        ("@hourly", utc(2025, 3, 5, 8, 15), utc(2025, 3, 5, 9)),
    ],
)
def test_aliases(shortcut, after, expected):
    assert parse_schedule(shortcut, UTC).next_after(after) == expected


def test_time_zone_suffix_overrides_the_default():
    schedule = parse_schedule("0 3 * * * Europe/Paris", UTC)
    assert schedule.timezone == PARIS and schedule.explicit_timezone
    assert schedule.next_after(utc(2025, 7, 1)) == utc(2025, 7, 1, 1)  # CEST is UTC+2


def test_time_zone_suffix_after_alias_and_seconds():
    assert parse_schedule("@daily America/New_York", UTC).next_after(utc(2025, 1, 1)) == utc(
        2025, 1, 1, 5
    )
    schedule = parse_schedule("0 3 * * * 15 Europe/Paris")
    assert schedule.cron == "0 3 * * * 15" and schedule.timezone == PARIS


def test_without_suffix_django_time_zone_is_the_default():
    with override_settings(TIME_ZONE="Asia/Tokyo"):
        schedule = parse_schedule("0 9 * * *")
    assert schedule.timezone == ZoneInfo("Asia/Tokyo") and not schedule.explicit_timezone
    assert schedule.next_after(utc(2024, 12, 31, 12)) == utc(2025, 1, 1, 0)  # 09:00 JST


def test_day_names_are_not_mistaken_for_zones():
    assert parse_schedule("0 9 * * mon-fri", UTC).timezone is UTC


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_schedule("@daily", UTC).next_after(datetime(2025, 1, 1))


def test_describe():
    assert "03:00" in parse_schedule("0 3 * * *", UTC).describe()
    assert "03:00:05" in parse_schedule("0 3 * * * 5", UTC).describe()
    assert parse_schedule("@daily Europe/Paris", UTC).describe().endswith("(Europe/Paris)")


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("", "the expression is empty"),
        ("   ", "the expression is empty"),
        ("* * * *", "expected 5 fields (or 6 with seconds), got 4"),
        ("* * * * * * *", "expected 5 fields (or 6 with seconds), got 7"),
        ("61 * * * *", "minute field '61' is out of range"),
        ("0 24 * * *", "hour field '24' is out of range"),
        ("0 0 32 * *", "day-of-month field '32' is out of range"),
        ("0 0 * 13 *", "month field '13' is out of range"),
        ("0 0 * * 8", "day-of-week field '8' is out of range"),
        ("0 0 * * * 60", "second field '60' is out of range"),
        ("*/0 * * * *", "minute field '*/0' is not valid"),
        ("0 0 31 2 *", "it never matches any date"),
        ("@reboot", "unknown alias '@reboot'"),
        ("@dialy", "unknown alias '@dialy' (did you mean '@daily'?)"),
        ("@daily 5", "unexpected '5' after '@daily'"),
        (
            "0 3 * * * Europe/Pariss",
            "unknown time zone 'Europe/Pariss' (did you mean 'Europe/Paris'?)",
        ),
    ],
)
def test_invalid_expressions(expression, reason):
    with pytest.raises(InvalidSchedule) as info:
        parse_schedule(expression, UTC)
    assert str(info.value) == f"invalid cron schedule {expression!r}: {reason}"
    assert isinstance(info.value, ConfigurationError)


def test_non_string_expression():
    with pytest.raises(InvalidSchedule, match="expected a string"):
        parse_schedule(None, UTC)


class TestDaylightSaving:
    def test_spring_forward_gap_fires_after_the_gap(self):
        # 2025-03-30: Paris clocks jump from 02:00 to 03:00; 02:30 does not exist.
        schedule = parse_schedule("30 2 * * * Europe/Paris")
        fired = schedule.next_after(utc(2025, 3, 29, 12))
        assert fired == utc(2025, 3, 30, 1)  # 03:00 CEST, the first instant after the gap
        assert schedule.next_after(fired) == utc(2025, 3, 31, 0, 30)
        assert schedule.previous_at_or_before(utc(2025, 3, 30, 12)) <= utc(2025, 3, 30, 12)

    def test_fall_back_fixed_time_fires_once(self):
        # 2025-10-26: Paris clocks go back from 03:00 to 02:00; 02:30 happens twice.
        schedule = parse_schedule("30 2 * * * Europe/Paris")
        first = schedule.next_after(utc(2025, 10, 25, 12))
        assert first == utc(2025, 10, 26, 0, 30)
        assert schedule.next_after(first) == utc(2025, 10, 27, 1, 30)
        assert schedule.previous_at_or_before(utc(2025, 10, 26, 1, 45)) == first

    def test_fall_back_interval_fires_on_both_passes(self):
        schedule = parse_schedule("*/30 * * * * Europe/Paris")
        times, at = [], utc(2025, 10, 25, 23, 50)
        for _ in range(4):
            at = schedule.next_after(at)
            times.append(at)
        assert times == [
            utc(2025, 10, 26, 0),
            utc(2025, 10, 26, 0, 30),
            utc(2025, 10, 26, 1),
            utc(2025, 10, 26, 1, 30),
        ]
