"""Jobs as operators see them: enqueue by path, inspect, retry, discard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.tasks import task_backends
from django.tasks.base import TASK_MAX_PRIORITY, TASK_MIN_PRIORITY
from django.utils import timezone

from ..db.rows import NewJob
from ..exceptions import DjqError, EnqueueError
from ..payload import encode_arguments
from ..results import load_task


def enqueue_by_path(
    backend_alias: str,
    task_path: str,
    args: list | None = None,
    kwargs: dict | None = None,
    *,
    queue_name: str | None = None,
    priority: int | None = None,
    run_after: datetime | None = None,
) -> int:
    """Enqueue a task named by its dotted path; returns the job id.

    With the application's code importable this goes through the task (its
    defaults, validation and signals). Without it (standalone mode) the job
    is stored by path, for a runtime that has the code to run it.
    """
    args, kwargs = list(args or []), dict(kwargs or {})
    backend = task_backends[backend_alias]
    try:
        task = load_task(task_path)
    except DjqError:
        task = None
    if task is not None:
        changes: dict[str, Any] = {"backend": backend_alias}
        if queue_name is not None:
            changes["queue_name"] = queue_name
        if priority is not None:
            changes["priority"] = priority
        if run_after is not None:
            changes["run_after"] = run_after
        try:
            result = task.using(**changes).enqueue(*args, **kwargs)
        except EnqueueError:
            raise
        except Exception as exc:  # Django's InvalidTask and friends
            raise EnqueueError(str(exc)) from exc
        return int(result.id)
    return _enqueue_stored_path(backend, task_path, args, kwargs, queue_name or "default",
                                0 if priority is None else priority, run_after)


def _enqueue_stored_path(backend, task_path, args, kwargs, queue_name, priority, run_after) -> int:
    if "." not in task_path:
        raise EnqueueError(f"{task_path!r} is not a dotted task path (module.function)")
    if not (TASK_MIN_PRIORITY <= priority <= TASK_MAX_PRIORITY):
        raise EnqueueError(f"priority must be between {TASK_MIN_PRIORITY} and {TASK_MAX_PRIORITY}, got {priority}")
    if backend.queues and queue_name not in backend.queues:
        raise EnqueueError(f"queue {queue_name!r} is not in TASKS[{backend.alias!r}]['QUEUES']")
    now = timezone.now()
    deferred = run_after is not None and run_after > now
    job = NewJob(
        backend_alias=backend.alias, queue_name=queue_name, task_path=task_path, priority=priority,
        state="scheduled" if deferred else "ready", payload=encode_arguments(args, kwargs),
        enqueued_at=now, scheduled_at=run_after if deferred else now,
    )
    [job_id] = backend.store([job])
    return job_id
