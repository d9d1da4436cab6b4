"""Process titles, so `ps` says what each djq process is, and the same name in log lines."""

from __future__ import annotations

import logging
import threading

try:
    from setproctitle import setproctitle
except ImportError:  # pragma: no cover - a declared dependency
    setproctitle = None

#: What this process is ("worker-1 [default]"); log records carry it as ``djq_process``.
current = "djq"
#: In async mode every runner is a thread of one process: each names its own lines.
_thread = threading.local()


def set_title(text: str, *, name: str | None = None) -> None:
    """Name this runner: the process title and its log lines when it owns the process, its thread's otherwise."""
    global current
    name_thread(name or text)
    if threading.current_thread() is threading.main_thread():
        current = name or text
        if setproctitle is not None:
            setproctitle(f"djq: {text}")


def name_thread(name: str) -> None:
    """Log lines from this thread (a runner's, or one of its helpers) carry ``name``."""
    _thread.name = name


class ProcessNameFilter(logging.Filter):
    """Adds ``%(djq_process)s`` to log records: the runner of the logging thread, else the process's."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.djq_process = getattr(_thread, "name", None) or current
        return True
