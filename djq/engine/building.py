"""Building new job rows: the one place a call, a stored path or a recurring slot becomes a row.

``DjqBackend.enqueue``, ``djq enqueue`` (with or without the application's
code) and the scheduler all build through ``build_job``, so a queue outside
``QUEUES``, a priority out of range or a bad task path is refused the same
way, with the same words, wherever it comes from.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from django.tasks.base import TASK_MAX_PRIORITY, TASK_MIN_PRIORITY

from ..concurrency import policy_for, resolve_key
from ..db.rows import NewJob
from ..exceptions import EnqueueError
from ..payload import encode_arguments
from ..states import READY, SCHEDULED

#: djq_job.queue_name's width; SQLite would store a longer name, servers fail.
MAX_QUEUE_NAME = 64


def check_queue(alias: str, allowed: Collection[str], queue_name: str) -> None:
    """Refuse a queue name the backend cannot take (``allowed`` empty: any name)."""
    if len(queue_name) > MAX_QUEUE_NAME:
        raise EnqueueError(f"queue name {queue_name!r} is longer than {MAX_QUEUE_NAME} characters")
    if allowed and queue_name not in allowed:
        raise EnqueueError(
            f"queue {queue_name!r} is not in TASKS[{alias!r}]['QUEUES'] ({', '.join(sorted(allowed))})"
        )


def check_priority(priority: int) -> None:
    if not TASK_MIN_PRIORITY <= priority <= TASK_MAX_PRIORITY:
        raise EnqueueError(f"priority must be between {TASK_MIN_PRIORITY} and {TASK_MAX_PRIORITY}, got {priority}")


def check_task_path(task_path: str) -> None:
    if "." not in task_path:
        raise EnqueueError(f"{task_path!r} is not a dotted task path (module.function)")


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
    deferred = run_after is not None and run_after > now
    job = NewJob(
        backend_alias=backend.alias,
        queue_name=queue_name,
        task_path=task_path,
        priority=priority,
        state=SCHEDULED if deferred else READY,
        payload=encode_arguments(args, kwargs),
        enqueued_at=now,
        scheduled_at=run_after if deferred else now,
        recurring_key=recurring_key,
    )
    policy = policy_for(task) if task is not None else None
    if policy is not None:
        policy.check()
        job.concurrency_key = resolve_key(policy, task, args, kwargs)
        job.concurrency_limit = policy.limit
        job.concurrency_duration = float(policy.duration or backend.config.default_concurrency_duration)
        job.concurrency_on_conflict = policy.on_conflict
    return job
