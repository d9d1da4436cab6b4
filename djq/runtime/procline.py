"""Process titles, so `ps` says what each djq process is, and the same name in log lines."""

from __future__ import annotations

import logging

try:
    from setproctitle import setproctitle
except ImportError:  # pragma: no cover - a declared dependency
    setproctitle = None

#: What this process is ("worker-1 [default]"); log records carry it as ``djq_process``.
current = "djq"


def set_title(text: str, *, name: str | None = None) -> None:
    global current
    current = name or text
    if setproctitle is not None:
        setproctitle(f"djq: {text}")


class ProcessNameFilter(logging.Filter):
    """Adds ``%(djq_process)s`` to log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.djq_process = current
        return True
