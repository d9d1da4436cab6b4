"""Recurring tasks: keeping the table in step with settings, and firing due slots exactly once."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, transaction
from django.tasks import task_backends
from django.utils import timezone

from ..config import get_config
from ..cron import parse_schedule
from ..db.rows import NewJob
from ..exceptions import EnqueueError, RecurringTaskError
from ..job_rules import check_new_job, check_queue_name, check_task_path
from ..models import RecurringExecution, RecurringTask
from ..payload import encode_arguments
from ..safe_text import for_log
from .results import Change

logger = logging.getLogger("djq.runtime")


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


def sync_static(database: str, backend_alias: str, tasks: Iterable, now: datetime | None = None) -> None:
    """Make the static rows of ``backend_alias`` match the configured recurring tasks.

    A new task, or one whose schedule changed, starts at its next slot after
    now: it never fires for a slot that passed before it existed.
    """
    now = now or timezone.now()
    keep = []
    for cfg in tasks:
        keep.append(cfg.key)
        payload = {"args": list(cfg.args), "kwargs": dict(cfg.kwargs)}
        fields = {
            "task_path": cfg.task_path, "payload": payload, "queue_name": cfg.queue_name,
            "priority": cfg.priority, "description": cfg.description, "static": True,
        }
        try:
            _sync_one(database, backend_alias, cfg, fields, now)
        except (OperationalError, InterfaceError):
            raise
        except DatabaseError as exc:  # a value this database cannot store: the others still sync
            logger.error("recurring task %s cannot be stored (%s); it will not run", cfg.key, for_log(exc))
    (RecurringTask.objects.using(database)
     .filter(backend_alias=backend_alias, static=True).exclude(key__in=keep).delete())


def _sync_one(database: str, backend_alias: str, cfg, fields: dict, now: datetime) -> None:
    with transaction.atomic(using=database):
        row = (RecurringTask.objects.using(database).select_for_update()
               .filter(backend_alias=backend_alias, key=cfg.key).first())
        if row is None:
            try:
                with transaction.atomic(using=database):
                    RecurringTask.objects.using(database).create(
                        backend_alias=backend_alias, key=cfg.key, schedule=cfg.schedule,
                        next_run_at=parse_schedule(cfg.schedule).next_after(now),
                        created_at=now, updated_at=now, **fields,
                    )
            except IntegrityError:
                pass  # another scheduler created it first
            return
        changed = {k: v for k, v in fields.items() if getattr(row, k) != v}
        if row.schedule != cfg.schedule or row.next_run_at is None:
            changed["schedule"] = cfg.schedule
            changed["next_run_at"] = parse_schedule(cfg.schedule).next_after(now)
        if changed:
            RecurringTask.objects.using(database).filter(pk=row.pk).update(updated_at=now, **changed)


def due_tasks(database: str, backend_alias: str, now: datetime, *, dynamic: bool) -> list[RecurringTask]:
    qs = RecurringTask.objects.using(database).filter(
        backend_alias=backend_alias, paused=False, next_run_at__lte=now
    )
    if not dynamic:
        qs = qs.filter(static=True)
    return list(qs.order_by("next_run_at"))


def next_due_at(database: str, backend_alias: str, *, dynamic: bool) -> datetime | None:
    qs = RecurringTask.objects.using(database).filter(backend_alias=backend_alias, paused=False)
    if not dynamic:
        qs = qs.filter(static=True)
    return qs.order_by("next_run_at").values_list("next_run_at", flat=True).first()


def recurring_job(backend, row: RecurringTask, now: datetime) -> NewJob:
    """The job one slot of a recurring task enqueues."""
    from ..results import clone_task, load_task

    args, kwargs = row.payload.get("args", []), row.payload.get("kwargs", {})
    try:
        task = clone_task(load_task(row.task_path), queue_name=row.queue_name, priority=row.priority,
                          backend=backend.alias)
    except Exception:
        payload = encode_arguments(args, kwargs, allow_nul=backend.dialect.stores_nul,
                                   max_bytes=backend.config.max_payload_size)
        job = NewJob(backend_alias=backend.alias, queue_name=row.queue_name, task_path=row.task_path,
                     priority=row.priority, state="ready", payload=payload,
                     enqueued_at=now, scheduled_at=now, recurring_key=row.key)
        check_new_job(job)
        return job
    job = backend.new_job(task, args, kwargs, now)
    job.recurring_key = row.key
    return job


def fire(backend, row: RecurringTask, now: datetime, *, slot: datetime | None = None) -> int | None:
    """Enqueue one slot of ``row``; None if another scheduler fired that slot first.

    The execution row (unique per alias, key and slot) and the job are
    written in one transaction, so a slot fires exactly once even with
    several schedulers, and a crash leaves either both or neither.
    """
    database = backend.database
    if slot is None:
        # After downtime several slots may have passed: fire the latest once.
        slot = max(row.next_run_at, parse_schedule(row.schedule).previous_at_or_before(now))
    following = parse_schedule(row.schedule).next_after(max(now, slot))
    try:
        with transaction.atomic(using=database):
            execution = RecurringExecution.objects.using(database).create(
                backend_alias=row.backend_alias, task_key=row.key, run_at=slot, created_at=now
            )
            [job_id] = backend.store([recurring_job(backend, row, now)])
            RecurringExecution.objects.using(database).filter(pk=execution.pk).update(job_id=job_id)
            RecurringTask.objects.using(database).filter(pk=row.pk).update(
                last_run_at=slot, next_run_at=following, updated_at=now
            )
    except IntegrityError:
        # Lost the race for this slot; move our cursor past it.
        RecurringTask.objects.using(database).filter(pk=row.pk, next_run_at__lte=slot).update(
            next_run_at=following
        )
        return None
    logger.info("recurring task %s fired for %s (job %s)", row.key, slot.isoformat(), job_id)
    return job_id


def fire_due(backend, now: datetime, *, dynamic: bool) -> int:
    """Fire every due task; one that cannot be enqueued skips its slot and never stops the others."""
    fired = 0
    for row in due_tasks(backend.database, backend.alias, now, dynamic=dynamic):
        try:
            if fire(backend, row, now) is not None:
                fired += 1
        except (OperationalError, InterfaceError):
            raise  # the database is away: the runner waits for it
        except Exception as exc:
            _skip_slot(backend.database, row, now, exc)
    return fired


def _skip_slot(database: str, row: RecurringTask, now: datetime, exc: Exception) -> None:
    try:
        following = parse_schedule(row.schedule).next_after(now)
    except Exception:
        following = None  # never due again until its schedule is fixed
    logger.error("recurring task %s cannot be enqueued (%s: %s); skipping to %s", row.key, type(exc).__name__,
                 for_log(exc), following.isoformat() if following else "never")
    RecurringTask.objects.using(database).filter(pk=row.pk).update(next_run_at=following, updated_at=now)


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
    row = RecurringTask.objects.using(get_config(backend_alias).database_alias).filter(
        backend_alias=backend_alias, key=key).first()
    if row is None:
        raise RecurringTaskError(f"no recurring task {key!r} in backend {backend_alias!r}")
    return row


def list_recurring(backend_alias: str) -> list[RecurringInfo]:
    db = get_config(backend_alias).database_alias
    return [info(r) for r in RecurringTask.objects.using(db).filter(backend_alias=backend_alias).order_by("key")]


def get_recurring(backend_alias: str, key: str) -> RecurringInfo:
    return info(_row(backend_alias, key))


def schedule(
    key: str,
    task_path: str,
    schedule: str,
    *,
    args: list | None = None,
    kwargs: dict | None = None,
    queue_name: str = "default",
    priority: int = 0,
    description: str = "",
    backend_alias: str = "default",
) -> RecurringInfo:
    """Create or update a dynamic recurring task (needs ``scheduler.dynamic_tasks_enabled``)."""
    cfg = get_config(backend_alias)
    if not cfg.scheduler.dynamic_tasks_enabled:
        raise RecurringTaskError(
            f"dynamic recurring tasks are off for backend {backend_alias!r}; "
            "set OPTIONS['scheduler']['dynamic_tasks_enabled'] = True"
        )
    if not key or len(key) > 255:
        raise RecurringTaskError("a recurring task key must be 1 to 255 characters")
    try:
        check_task_path(task_path)
        check_queue_name(queue_name)
    except EnqueueError as exc:
        raise RecurringTaskError(str(exc)) from None
    if cfg.queues and queue_name not in cfg.queues:
        raise RecurringTaskError(f"queue {queue_name!r} is not in TASKS[{backend_alias!r}]['QUEUES']")
    if not -100 <= priority <= 100:
        raise RecurringTaskError(f"priority must be between -100 and 100, got {priority}")
    parsed = parse_schedule(schedule)  # raises with the expression and the reason
    backend = task_backends[backend_alias]
    encode_arguments(args or [], kwargs or {}, allow_nul=backend.dialect.stores_nul,
                     max_bytes=cfg.max_payload_size)
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


def unschedule(key: str, *, backend_alias: str = "default") -> int:
    """Remove a dynamic recurring task; returns 1, or 0 if it is unknown or static."""
    db = get_config(backend_alias).database_alias
    deleted, _ = RecurringTask.objects.using(db).filter(backend_alias=backend_alias, key=key, static=False).delete()
    return deleted


def set_paused(backend_alias: str, key: str, paused: bool) -> Change:
    """Pause or resume a recurring task without removing it. Idempotent."""
    row = _row(backend_alias, key)
    db = get_config(backend_alias).database_alias
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
