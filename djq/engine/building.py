"""Building new job rows: the one place a call, a stored path or a recurring slot becomes a row.

``DjqBackend.enqueue``, ``djq enqueue`` (with or without the application's
code) and the scheduler all build through ``build_job``, so a value the
database cannot store is refused the same way, with the same words, wherever
it comes from, and nothing is written: a queue outside ``QUEUES``, an empty
or over-long queue name or task path, a priority that is not a whole number
from -100 to 100 (``True`` included), a ``run_after`` past the year 9999 in
UTC, arguments that are not storable JSON (see ``djq.payload``), and a retry
policy whose ``retry_on`` does not import.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from django.tasks.base import TASK_MAX_PRIORITY, TASK_MIN_PRIORITY

from ..concurrency import policy_for, resolve_key
from ..config.schema import MAX_QUEUE_NAME, MAX_TASK_PATH
from ..db.rows import NewJob
from ..db.sql import stores_nul
from ..exceptions import EnqueueError
from ..payload import encode_arguments
from ..states import READY, SCHEDULED

__all__ = [
    "MAX_QUEUE_NAME",
    "build_job",
    "check_priority",
    "check_queue",
    "check_run_after",
    "check_task_path",
    "payload_rules",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _name_problem(value: Any, what: str, most: int) -> str | None:
    if not isinstance(value, str):
        return f"{what} must be a string, got {_shown(value)}"
    if not value.strip():
        return f"{what} must not be empty or only spaces, got {value!r}"
    if len(value) > most:
        return f"{what} {_shown(value)} is longer than {most} characters"
    if _CONTROL.search(value):
        return f"{what} {_shown(value)} contains a control character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} {_shown(value)} contains a lone surrogate"
    return None


def check_queue(alias: str, allowed: Collection[str], queue_name: Any) -> None:
    """Refuse a queue name the backend cannot take (``allowed`` empty: any name)."""
    problem = _name_problem(queue_name, "queue name", MAX_QUEUE_NAME)
    if problem:
        raise EnqueueError(problem)
    if allowed and queue_name not in allowed:
        raise EnqueueError(
            f"queue {queue_name!r} is not in TASKS[{alias!r}]['QUEUES'] ({', '.join(sorted(allowed))})"
        )


def check_priority(priority: Any) -> None:
    """A whole number from -100 to 100; a bool is not a priority."""
    if isinstance(priority, bool) or not isinstance(priority, (int, float)) or int(priority) != priority:
        raise EnqueueError(f"priority must be a whole number between {TASK_MIN_PRIORITY} and {TASK_MAX_PRIORITY},"
                           f" got {_shown(priority)}")
    if not TASK_MIN_PRIORITY <= priority <= TASK_MAX_PRIORITY:
        raise EnqueueError(f"priority must be between {TASK_MIN_PRIORITY} and {TASK_MAX_PRIORITY}, got {priority}")


def check_task_path(task_path: Any) -> None:
    problem = _name_problem(task_path, "task path", MAX_TASK_PATH)
    if problem:
        raise EnqueueError(problem)
    if "." not in task_path:
        raise EnqueueError(f"{task_path!r} is not a dotted task path (module.function)")


def check_run_after(run_after: Any) -> datetime | None:
    """``run_after`` in UTC; naive, or past what a database stores, is an EnqueueError."""
    if run_after is None:
        return None
    if not isinstance(run_after, datetime):
        raise EnqueueError(f"run_after must be a datetime, got {_shown(run_after)}")
    if run_after.utcoffset() is None:
        raise EnqueueError(f"run_after must be an aware datetime, got {_shown(run_after)}")
    try:
        return run_after.astimezone(UTC)
    except OverflowError:  # 9999-12-31 23:00-05:00 is in the year 10000 in UTC
        raise EnqueueError(
            f"run_after {run_after.isoformat()} is after the year 9999 in UTC, which databases cannot store"
        ) from None


def payload_rules(backend: Any) -> dict[str, Any]:
    """What the backend's database can store as JSON (keyword arguments of ``djq.payload``).

    ``backend`` is a ``DjqBackend`` or a ``Handle``: anything with a ``config``.
    """
    config = backend.config
    return {"allow_nul": stores_nul(config.database_alias), "max_bytes": config.max_payload_size}


def check_retry_policy(task: Any) -> None:
    """The task's own retry policy must be valid and its ``retry_on`` classes must import."""
    from ..config import RetryPolicy
    from ..exceptions import ConfigurationError

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


def build_job(
    backend: Any,
    *,
    task_path: str,
    args: Sequence,
    kwargs: dict,
    queue_name: str,
    priority: int,
    run_after: datetime | None,
    now: datetime,
    task: Any = None,
    recurring_key: str | None = None,
) -> NewJob:
    """The row for one call, validated; nothing is written.

    ``task`` is the ``Task`` when the code is importable: its concurrency
    policy then gives the row its key and limit. A row built from a bare
    path (standalone enqueue) has none.
    """
    check_task_path(task_path)
    check_queue(backend.alias, backend.queues, queue_name)
    check_priority(priority)
    run_after = check_run_after(run_after)
    payload = encode_arguments(args, kwargs, **payload_rules(backend))
    deferred = run_after is not None and run_after > now
    job = NewJob(
        backend_alias=backend.alias,
        queue_name=queue_name,
        task_path=task_path,
        priority=int(priority),
        state=SCHEDULED if deferred else READY,
        payload=payload,
        enqueued_at=now,
        scheduled_at=run_after if deferred else now,
        recurring_key=recurring_key,
    )
    if task is not None:
        check_retry_policy(task)
    policy = policy_for(task) if task is not None else None
    if policy is not None:
        policy.check()
        job.concurrency_key = resolve_key(policy, task, args, kwargs)
        job.concurrency_limit = policy.limit
        job.concurrency_duration = float(policy.duration or backend.config.default_concurrency_duration)
        job.concurrency_on_conflict = policy.on_conflict
    return job
