"""Hostile inputs for the property tests: every character, every number, odd nesting, odd times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

#: Any code point, lone surrogates and NUL included.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
#: What can reach a program's argv: anything but NUL (surrogates come from undecodable bytes).
argv_text = st.text(st.characters(codec=None, exclude_categories=(), exclude_characters="\x00"), max_size=20)

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, any_text)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(any_text, inner, max_size=3)),
    max_leaves=8,
)
offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets),
    st.sampled_from([datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
                     datetime(9999, 12, 31, 23, 59, tzinfo=UTC), datetime(1, 1, 1, 0, 1, tzinfo=UTC)]),
)
queue_names = st.one_of(st.sampled_from(["default", "emails", "", "   ", "q" * 64, "q" * 65]), any_text)
priorities = st.one_of(st.integers(min_value=-150, max_value=150), st.booleans(), st.floats(-200, 200))
