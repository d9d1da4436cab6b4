"""Short, width-stable text for table cells: ages, durations, states with their symbol."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

#: Every state carries a word and a symbol; colour only reinforces them.
STATE_LABELS = {
    "ready": ("● ready", "ok"),
    "scheduled": ("◷ scheduled", "info"),
    "claimed": ("▶ running", "info"),
    "blocked": ("◼ blocked", "warn"),
    "failed": ("✗ failed", "bad"),
    "finished": ("✓ finished", "ok"),
    "discarded": ("- discarded", "dim"),
}
STYLES = {"ok": "green", "info": "cyan", "warn": "yellow", "bad": "bold red", "dim": "dim"}


def seconds(value: float | None) -> str:
    """``42s``, ``7m``, ``3h05m``, ``2d04h``; ``-`` for nothing."""
    if value is None:
        return "-"
    value = max(0.0, value)
    if value < 1:
        return "<1s"
    if value < 60:
        return f"{value:.0f}s"
    minutes, secs = divmod(int(value), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s" if minutes < 10 else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    delta = (now - _aware(moment)).total_seconds()
    if abs(delta) < 1:
        return "now"
    return f"{seconds(delta)} ago" if delta >= 0 else f"in {seconds(-delta)}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def stamp(moment: datetime | None) -> str:
    return "-" if moment is None else _aware(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def state(name: str) -> Text:
    label, tone = STATE_LABELS.get(name, (name, "dim"))
    return Text(label, style=STYLES[tone])


def flag(text: str, tone: str) -> Text:
    return Text(text, style=STYLES[tone])


def short_task(path: str, width: int = 40) -> str:
    return path if len(path) <= width else "…" + path[-(width - 1):]


def clip(text: str | None, width: int) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
