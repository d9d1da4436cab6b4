"""Times as people read them in a table: "3 minutes ago", "in 5 seconds"."""

from datetime import UTC, datetime

import humanize


def relative(moment: datetime) -> str:
    now = datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = now - moment
    text = humanize.naturaldelta(abs(delta))
    return f"{text} ago" if delta.total_seconds() >= 0 else f"in {text}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return humanize.precisedelta(seconds, minimum_unit="seconds", format="%0.0f")
