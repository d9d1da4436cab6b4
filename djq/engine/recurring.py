"""Recurring tasks in the engine: keeping the table in step with settings, and firing due slots exactly once."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from ..cron import parse_schedule
from ..db.rows import NewJob
from ..models import RecurringExecution, RecurringTask
from ..safe_text import for_log
from .building import build_job
from .task_results import clone_task, load_task

logger = logging.getLogger("djq.runtime")


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
            raise  # the database is away: the runner waits for it
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
    """The job one slot of a recurring task enqueues (by path when the code is not importable here)."""
    try:
        task = clone_task(load_task(row.task_path), queue_name=row.queue_name, priority=row.priority,
                          backend=backend.alias)
    except Exception:
        task = None
    return build_job(backend, task_path=row.task_path, args=row.payload.get("args", []),
                     kwargs=row.payload.get("kwargs", {}), queue_name=row.queue_name, priority=row.priority,
                     run_after=None, now=now, task=task, recurring_key=row.key)


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
