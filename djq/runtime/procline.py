"""Process titles, so `ps` says what each djq process is."""

from __future__ import annotations

try:
    from setproctitle import setproctitle
except ImportError:  # pragma: no cover - a declared dependency
    setproctitle = None


def set_title(text: str) -> None:
    if setproctitle is not None:
        setproctitle(f"djq: {text}")
