"""Where runtime infrastructure errors go: ``on_thread_error`` or the log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache

from django.utils.module_loading import import_string

from ..safe_text import for_log

logger = logging.getLogger("djq.runtime")


@cache
def _handler(path: str | None) -> Callable[[BaseException], None] | None:
    return import_string(path) if path else None


def report(exc: BaseException, on_thread_error: str | None = None) -> None:
    """Hand an infrastructure error (not a task's) to the configured handler."""
    handler = _handler(on_thread_error)
    if handler is None:
        logger.error("runtime error: %s: %s", type(exc).__name__, for_log(exc), exc_info=exc)
        return
    try:
        handler(exc)
    except Exception as inner:
        logger.error("on_thread_error handler failed: %s", for_log(inner), exc_info=inner)
