"""Cron strings: an InvalidSchedule in one line, or a schedule whose next slot is found (issue 10 item 14)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from djq.cron import InvalidSchedule, parse_schedule

field = st.one_of(
    st.sampled_from(["*", "*/5", "0", "59", "60", "1-5", "5-1", "L", "W", "1W", "?", "#", "1#2", "JAN", "mon-fri",
                     "*/0", "0/0", "99999999999999", "-1", "1,2,3", ",", "", "H"]),
    st.text(st.sampled_from(list("0123456789*/-,#LW?")), min_size=1, max_size=6),
)
expressions = st.one_of(
    st.lists(field, min_size=1, max_size=7).map(" ".join),
    st.builds(lambda e, z: f"{e} {z}", st.lists(field, min_size=5, max_size=6).map(" ".join),
              st.sampled_from(["Europe/Paris", "UTC", "Mars/Base", "../../etc/passwd", "A" * 300, "Etc/GMT+12"])),
    st.sampled_from(["@daily", "@hourly", "@yearly", "@reboot", "@", "@daily UTC", "0 0 30 2 *", "0 0 31 4 *",
                     "0 0 29 2 1"]),
    st.text(max_size=30),
)
now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@given(expression=expressions)
def test_item14_any_cron_string(expression):
    try:
        schedule = parse_schedule(expression, UTC)
    except InvalidSchedule as exc:
        assert "\n" not in str(exc) and str(exc).startswith("invalid cron schedule")
        return
    following = schedule.next_after(now)
    assert following > now and following.tzinfo is not None
    assert schedule.previous_at_or_before(now) <= now
    assert isinstance(schedule.describe(), str)
