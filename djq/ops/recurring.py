"""Recurring tasks as operators see them: list, schedule, unschedule, pause, resume, run now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ..cron import parse_schedule
from ..engine.building import check_priority, check_queue, check_task_path, payload_rules
from ..engine.handle import handle
from ..engine.recurring import recurring_job
from ..exceptions import EnqueueError, RecurringTaskError
from ..models import RecurringTask
from ..payload import encode_arguments
from .changes import Change


@dataclass(frozen=True, slots=True)
class RecurringInfo:
    key: str
    backend_alias: str
    task_path: str
    schedule: str
    schedule_description: str
    args: list
    kwargs: dict
    queue_name: str
    priority: int
    description: str
    static: bool
    paused: bool
    next_run_at: datetime | None
    last_run_at: datetime | None


def info(row: RecurringTask) -> RecurringInfo:
    try:
        words = parse_schedule(row.schedule).describe()
    except Exception:
        words = row.schedule
    return RecurringInfo(
        key=row.key, backend_alias=row.backend_alias, task_path=row.task_path, schedule=row.schedule,
        schedule_description=words, args=list(row.payload.get("args", [])),
        kwargs=dict(row.payload.get("kwargs", {})), queue_name=row.queue_name, priority=row.priority,
        description=row.description, static=row.static, paused=row.paused,
        next_run_at=row.next_run_at, last_run_at=row.last_run_at,
    )


# -- operator verbs -----------------------------------------------------------------


def _row(backend_alias: str, key: str) -> RecurringTask:
    row = RecurringTask.objects.using(handle(backend_alias).database).filter(
        backend_alias=backend_alias, key=key).first()
    if row is None:
        raise RecurringTaskError(f"no recurring task {key!r} in backend {backend_alias!r}")
    return row


def list_recurring(backend_alias: str) -> list[RecurringInfo]:
    db = handle(backend_alias).database
    return [info(r) for r in RecurringTask.objects.using(db).filter(backend_alias=backend_alias).order_by("key")]


def get_recurring(backend_alias: str, key: str) -> RecurringInfo:
    return info(_row(backend_alias, key))


def schedule(
    backend_alias: str,
    key: str,
    task_path: str,
    schedule: str,
    *,
    args: list | None = None,
    kwargs: dict | None = None,
    queue_name: str = "default",
    priority: int = 0,
    description: str = "",
) -> RecurringInfo:
    """Create or update a dynamic recurring task (needs ``scheduler.dynamic_tasks_enabled``)."""
    cfg = handle(backend_alias).config
    if not cfg.scheduler.dynamic_tasks_enabled:
        raise RecurringTaskError(
            f"dynamic recurring tasks are off for backend {backend_alias!r}; "
            "set OPTIONS['scheduler']['dynamic_tasks_enabled'] = True"
        )
    if not key or len(key) > 255:
        raise RecurringTaskError("a recurring task key must be 1 to 255 characters")
    try:
        check_task_path(task_path)
        check_queue(backend_alias, cfg.queues, queue_name)
        check_priority(priority)
    except EnqueueError as exc:
        raise RecurringTaskError(str(exc)) from None
    parsed = parse_schedule(schedule)  # raises with the expression and the reason
    encode_arguments(args or [], kwargs or {}, **payload_rules(handle(backend_alias)))
    db, now = cfg.database_alias, timezone.now()
    fields = {"task_path": task_path, "schedule": schedule, "payload": {"args": list(args or []),
              "kwargs": dict(kwargs or {})}, "queue_name": queue_name, "priority": priority,
              "description": description, "updated_at": now}
    with transaction.atomic(using=db):
        row = RecurringTask.objects.using(db).select_for_update().filter(backend_alias=backend_alias, key=key).first()
        if row is not None and row.static:
            raise RecurringTaskError(f"{key!r} is a static recurring task (from settings); pick another key")
        if row is None:
            row = RecurringTask.objects.using(db).create(backend_alias=backend_alias, key=key, static=False,
                                                         next_run_at=parsed.next_after(now), created_at=now, **fields)
        else:
            if row.schedule != schedule:
                fields["next_run_at"] = parsed.next_after(now)
            RecurringTask.objects.using(db).filter(pk=row.pk).update(**fields)
            row.refresh_from_db(using=db)
    return info(row)


def unschedule(backend_alias: str, key: str) -> int:
    """Remove a dynamic recurring task; returns 1, or 0 if it is unknown or static."""
    db = handle(backend_alias).database
    deleted, _ = RecurringTask.objects.using(db).filter(backend_alias=backend_alias, key=key, static=False).delete()
    return deleted


def set_paused(backend_alias: str, key: str, paused: bool) -> Change:
    """Pause or resume a recurring task without removing it. Idempotent."""
    row = _row(backend_alias, key)
    db = handle(backend_alias).database
    if row.paused == paused:
        return Change(key, False, f"{key} is already {'paused' if paused else 'active'}")
    changes = {"paused": paused, "updated_at": timezone.now()}
    if not paused:
        # Resuming does not replay the slots that passed while paused.
        changes["next_run_at"] = parse_schedule(row.schedule).next_after(timezone.now())
    RecurringTask.objects.using(db).filter(pk=row.pk).update(**changes)
    return Change(key, True, f"{'paused' if paused else 'resumed'} {key}")


def run_now(backend_alias: str, key: str) -> int:
    """Enqueue one run of a recurring task now, outside its schedule; returns the job id."""
    from django.tasks import task_backends

    row = _row(backend_alias, key)
    backend = task_backends[backend_alias]
    [job_id] = backend.store([recurring_job(backend, row, timezone.now())])
    return job_id
