"""Turn a stored job into Django's ``TaskResult``."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from django.tasks.base import Task, TaskError, TaskResult, TaskResultStatus
from django.utils.module_loading import import_string

from ..exceptions import DjqError
from ..states import JobState

STATUS = {
    JobState.READY: TaskResultStatus.READY,
    JobState.SCHEDULED: TaskResultStatus.READY,
    JobState.BLOCKED: TaskResultStatus.READY,
    JobState.CLAIMED: TaskResultStatus.RUNNING,
    JobState.FINISHED: TaskResultStatus.SUCCESSFUL,
    # Dropped by a concurrency limit with on_conflict="discard": there is
    # nothing left to do, which Django can only say as SUCCESSFUL.
    JobState.DISCARDED: TaskResultStatus.SUCCESSFUL,
    JobState.FAILED: TaskResultStatus.FAILED,
}


@lru_cache(maxsize=1024)
def load_task(task_path: str) -> Task:
    """The ``Task`` object a job's task path names."""
    try:
        task = import_string(task_path)
    except ImportError as exc:
        raise DjqError(f"cannot import task {task_path!r}: {exc}") from exc
    if not isinstance(task, Task):
        raise DjqError(f"{task_path!r} is not a task; decorate the function with @task")
    return task


def clone_task(task: Task, **changes: Any) -> Task:
    """``task.using(...)`` without validating again: the job was validated at enqueue."""
    if all(getattr(task, k) == v for k, v in changes.items()):
        return task
    clone = object.__new__(type(task))
    for f in fields(task):
        object.__setattr__(clone, f.name, changes.get(f.name, getattr(task, f.name)))
    return clone


def task_for_job(
    task_path: str, *, priority: int, queue_name: str, backend: str, run_after: datetime | None
) -> Task:
    return clone_task(
        load_task(task_path), priority=priority, queue_name=queue_name, backend=backend, run_after=run_after
    )


def run_after_of(enqueued_at: datetime, scheduled_at: datetime) -> datetime | None:
    return scheduled_at if scheduled_at - enqueued_at > timedelta(milliseconds=1) else None


def build_result(
    *,
    task: Task,
    id: int,
    state: str,
    payload: dict,
    backend: str,
    enqueued_at: datetime,
    started_at: datetime | None,
    finished_at: datetime | None,
    attempts: list[dict],
    worker_id: str | None = None,
    return_value: Any = None,
) -> TaskResult:
    errors = [
        TaskError(exception_class_path=a["error"]["exception_class_path"], traceback=a["error"]["traceback"])
        for a in attempts
        if a.get("error")
    ]
    worker_ids = [a["worker_id"] for a in attempts]
    last_attempted_at = datetime.fromisoformat(attempts[-1]["started_at"]) if attempts else None
    if state == JobState.CLAIMED:
        worker_ids.append(worker_id or "")
        last_attempted_at = started_at
    result = TaskResult(
        task=task,
        id=str(id),
        status=STATUS[state],
        enqueued_at=enqueued_at,
        started_at=started_at,
        finished_at=finished_at,
        last_attempted_at=last_attempted_at,
        args=payload.get("args", []),
        kwargs=payload.get("kwargs", {}),
        backend=backend,
        errors=errors,
        worker_ids=worker_ids,
    )
    if state == JobState.FINISHED:
        object.__setattr__(result, "_return_value", return_value)
    return result
