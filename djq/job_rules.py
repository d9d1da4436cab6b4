"""What a new job must satisfy before it is stored, whichever way it is enqueued.

The API, the command line (``enqueue``, ``jobs enqueue-again``) and the
scheduler build rows in different places; all of them pass the row through
:func:`check_new_job`, so a value the database cannot store is refused with
an ``EnqueueError`` naming it, and nothing is written.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.tasks.base import TASK_MAX_PRIORITY, TASK_MIN_PRIORITY

from .config.schema import MAX_QUEUE_NAME, MAX_TASK_PATH
from .exceptions import EnqueueError

__all__ = ["check_new_job", "checked_priority", "checked_run_after"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def checked_run_after(run_after: Any) -> datetime | None:
    """``run_after`` in UTC, or EnqueueError when it is naive or past what a database stores."""
    if run_after is None:
        return None
    if not isinstance(run_after, datetime):
        raise EnqueueError(f"run_after must be a datetime, got {_short(run_after)}")
    if run_after.utcoffset() is None:
        raise EnqueueError(f"run_after must be an aware datetime, got {_short(run_after)}")
    try:
        return run_after.astimezone(UTC)
    except OverflowError:  # 9999-12-31 23:00-05:00 is in the year 10000 in UTC
        raise EnqueueError(
            f"run_after {run_after.isoformat()} is after the year 9999 in UTC, which databases cannot store"
        ) from None


def checked_priority(priority: Any) -> int:
    """A whole number from -100 to 100 (a bool is not a priority)."""
    if isinstance(priority, bool) or not isinstance(priority, (int, float)) or int(priority) != priority:
        raise EnqueueError(f"priority must be a whole number between {TASK_MIN_PRIORITY} and {TASK_MAX_PRIORITY},"
                           f" got {_short(priority)}")
    if not TASK_MIN_PRIORITY <= priority <= TASK_MAX_PRIORITY:
        raise EnqueueError(f"priority must be between {TASK_MIN_PRIORITY} and {TASK_MAX_PRIORITY}, got {priority}")
    return int(priority)


def _name_problem(value: Any, what: str, most: int) -> str | None:
    if not isinstance(value, str):
        return f"{what} must be a string, got {_short(value)}"
    if not value.strip():
        return f"{what} must not be empty or only spaces, got {value!r}"
    if len(value) > most:
        return f"{what} {_short(value)} is longer than {most} characters"
    if _CONTROL.search(value):
        return f"{what} {_short(value)} contains a control character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} {_short(value)} contains a lone surrogate"
    return None


def check_queue_name(queue_name: Any) -> None:
    problem = _name_problem(queue_name, "queue name", MAX_QUEUE_NAME)
    if problem:
        raise EnqueueError(problem)


def check_task_path(task_path: Any) -> None:
    problem = _name_problem(task_path, "task path", MAX_TASK_PATH)
    if problem:
        raise EnqueueError(problem)
    if "." not in task_path:
        raise EnqueueError(f"{task_path!r} is not a dotted task path (module.function)")


def check_new_job(job) -> None:
    """Refuse a built row (``djq.db.rows.NewJob``) with a value no database column can take."""
    check_queue_name(job.queue_name)
    check_task_path(job.task_path)
    job.priority = checked_priority(job.priority)


def check_retry_policy(task) -> None:
    """The task's own retry policy must be valid and its ``retry_on`` classes must import."""
    from .config import RetryPolicy
    from .exceptions import ConfigurationError

    policy = getattr(task, "retry", None) or getattr(task.func, "__djq_retry__", None)
    if policy is None:
        return
    try:
        if not isinstance(policy, RetryPolicy):
            policy = RetryPolicy(**policy)
        classes = policy.exception_classes()
    except ConfigurationError as exc:
        raise EnqueueError(str(exc)) from None
    except Exception as exc:  # a mapping with unknown fields, a module that fails to import
        raise EnqueueError(f"retry: {type(exc).__name__}: {exc}") from None
    for path, cls in zip(policy.retry_on, classes, strict=True):
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            raise EnqueueError(f"retry retry_on: {path!r} is not an exception class")
