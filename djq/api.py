"""The public Python API beyond Django's task contract.

``enqueue_on_commit``, ``QueueInfo``, the ``concurrency`` and ``retry``
decorators, dynamic recurring tasks, and the failed-job verbs. Everything
here goes through ``djq.ops``, like the CLI and the dashboard do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.tasks.base import Task

from .concurrency import ATTRIBUTE, ConcurrencyPolicy
from .ops import jobs as _jobs
from .ops import queues as _queues
from .ops import recurring as _recurring
from .ops.changes import BulkResult, Change

__all__ = [
    "QueueInfo",
    "concurrency",
    "discard_job",
    "enqueue_job_again",
    "enqueue_on_commit",
    "retry",
    "retry_failed_job",
    "schedule_recurring_task",
    "unschedule_recurring_task",
]


def _database_of(task: Task) -> str:
    from .config import get_config

    return get_config(task.backend).database_alias


def enqueue_on_commit(task: Task, *args: Any, using: str | None = None, **kwargs: Any) -> None:
    """Enqueue when the surrounding transaction commits (at once outside a transaction).

    ``using`` names the database whose transaction to follow; by default the
    queue database of the task's backend. The call is checked now: a value
    enqueue would refuse raises ``EnqueueError`` here, not at the commit.
    """
    from django.utils import timezone

    backend = task.get_backend()
    if hasattr(backend, "new_job"):
        backend.new_job(task, args, kwargs, timezone.now())
    transaction.on_commit(partial(task.enqueue, *args, **kwargs), using=using or _database_of(task))


def _decorate(attribute: str, value: Any) -> Callable:
    def apply(target):
        func = target.func if isinstance(target, Task) else target
        setattr(func, attribute, value)
        return target

    return apply


def concurrency(key: str | Callable[..., str], *, limit: int, duration: float | None = None,
                on_conflict: str = "block") -> Callable:
    """Limit how many jobs sharing ``key`` run at once; put it above or below ``@task``.

    ``key`` is a format string over the call's arguments (``"account:{account_id}"``)
    or a callable with the task's signature. Jobs over the limit wait
    (``on_conflict="block"``) or are dropped (``"discard"``).
    """
    policy = ConcurrencyPolicy(key=key, limit=limit, duration=duration, on_conflict=on_conflict)
    policy.check()
    return _decorate(ATTRIBUTE, policy)


def retry(*, max_attempts: int, backoff_base: float = 1.0, backoff_factor: float = 2.0, backoff_cap: float = 3600.0,
          jitter: float = 0.1, retry_on: tuple[type[BaseException] | str, ...] = (Exception,)) -> Callable:
    """Retry a failing task automatically, with exponential backoff and jitter; above or below ``@task``."""
    from .config import RetryPolicy

    paths = tuple(r if isinstance(r, str) else f"{r.__module__}.{r.__qualname__}" for r in retry_on)
    policy = RetryPolicy(max_attempts=max_attempts, backoff_base=backoff_base, backoff_factor=backoff_factor,
                         backoff_cap=backoff_cap, jitter=jitter, retry_on=paths)
    return _decorate("__djq_retry__", policy)


class QueueInfo:
    """One queue of one backend alias, with its operator verbs."""

    def __init__(self, name: str, backend_alias: str = "default") -> None:
        self.name = name
        self.backend_alias = backend_alias

    def __repr__(self) -> str:
        return f"QueueInfo({self.name!r}, backend_alias={self.backend_alias!r})"

    @classmethod
    def all(cls, backend_alias: str = "default") -> list[QueueInfo]:
        return [cls(row.name, backend_alias) for row in _queues.list_queues(backend_alias)]

    @property
    def size(self) -> int:
        """Ready jobs waiting in this queue."""
        return _queues.size(self.backend_alias, self.name)

    @property
    def latency(self) -> float | None:
        """Seconds the oldest ready job has waited, or None when none waits."""
        return _queues.latency(self.backend_alias, self.name)

    @property
    def paused(self) -> bool:
        return _queues.is_paused(self.backend_alias, self.name)

    def pause(self) -> Change:
        return _queues.pause(self.backend_alias, self.name)

    def resume(self) -> Change:
        return _queues.resume(self.backend_alias, self.name)

    def clear(self) -> BulkResult:
        """Discard this queue's ready jobs (only ready ones)."""
        return _queues.clear(self.backend_alias, self.name)


def retry_failed_job(job_id: int | str, *, at: datetime | None = None, backend_alias: str = "default") -> BulkResult:
    return _jobs.retry(_jobs.JobFilter(backend_alias=backend_alias, ids=(int(job_id),)), at=at)


def discard_job(job_id: int | str, *, backend_alias: str = "default") -> BulkResult:
    """Delete a ready, scheduled, blocked or failed job; a running one raises UndiscardableError."""
    return _jobs.discard(_jobs.JobFilter(backend_alias=backend_alias, ids=(int(job_id),)))


def enqueue_job_again(job_id: int | str, *, backend_alias: str = "default") -> int:
    return _jobs.enqueue_again(backend_alias, int(job_id))


def schedule_recurring_task(key: str, task_path: str, schedule: str, *, backend_alias: str = "default",
                            **options: Any) -> _recurring.RecurringInfo:
    """Create or update a dynamic recurring task; ``options``: args, kwargs, queue_name, priority, description."""
    return _recurring.schedule(backend_alias, key, task_path, schedule, **options)


def unschedule_recurring_task(key: str, *, backend_alias: str = "default") -> int:
    return _recurring.unschedule(backend_alias, key)
