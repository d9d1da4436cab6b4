"""Runtime process rows: registration, heartbeats, pruning and the recovery of their jobs."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..db.sql import dialect_for
from ..exceptions import DjqError, ProcessExitError, ProcessMissingError, ProcessPrunedError
from ..models import Job, Process

logger = logging.getLogger("djq.runtime")


def register(
    database: str,
    *,
    backend_alias: str,
    kind: str,
    name: str,
    hostname: str,
    pid: int,
    supervisor_id: int | None = None,
    metadata: dict | None = None,
    process_id: int | None = None,
) -> int:
    """Insert a process row; ``process_id`` re-creates a pruned row under its old id (children keep pointing at it)."""
    now = timezone.now()
    process = Process.objects.using(database).create(
        pk=process_id,
        backend_alias=backend_alias,
        kind=kind,
        name=name,
        hostname=hostname,
        pid=pid,
        supervisor_id=supervisor_id,
        metadata=metadata or {},
        last_heartbeat_at=now,
        created_at=now,
    )
    return process.pk


def heartbeat(database: str, process_id: int) -> bool:
    """Refresh a process's heartbeat; False if its row is gone (it was pruned)."""
    return bool(Process.objects.using(database).filter(pk=process_id).update(last_heartbeat_at=timezone.now()))


def deregister(database: str, process_id: int) -> None:
    Process.objects.using(database).filter(pk=process_id).delete()


def fail_claimed_jobs(database: str, process_ids: Iterable[int], error: DjqError) -> list[int]:
    """Fail every job still claimed by these processes with ``error``; returns their ids.

    The jobs count the interrupted attempt, and a task's retry policy may
    schedule them again (see ``djq.execution.attempt_outcome``).
    """
    from ..execution import recovered_outcome

    ids = list(process_ids)
    if not ids:
        return []
    failed: list[int] = []
    now = timezone.now()
    with transaction.atomic(using=database):
        jobs = list(
            Job.objects.using(database)
            .select_for_update()
            .filter(state="claimed", process_id__in=ids)
            .values("id", "task_path", "backend_alias", "attempts", "started_at", "worker_id", "concurrency_key")
        )
        woken: set[tuple[str, str]] = set()
        for job in jobs:
            outcome = recovered_outcome(job, error, now)
            changes = {
                "state": outcome.state,
                "finished_at": outcome.finished_at,
                "attempts": json.loads(outcome.attempts),
                "process_id": None,
                "worker_id": None,
            }
            if outcome.scheduled_at is not None:
                changes["scheduled_at"] = outcome.scheduled_at
            changed = Job.objects.using(database).filter(pk=job["id"], state="claimed").update(**changes)
            if changed:
                failed.append(job["id"])
                logger.warning("job %s failed: %s", job["id"], error)
                if job["concurrency_key"]:
                    freed = dialect_for(database).release_slot(job["concurrency_key"], now)
                    if freed:
                        woken.add(freed)
        for alias, queue in woken:
            dialect_for(database).notify(alias, [queue])
    return failed


def handle_exited(database: str, process_id: int, reason: str) -> list[int]:
    """A child process exited: fail what it held and forget it."""
    failed = fail_claimed_jobs(database, [process_id], ProcessExitError(reason))
    deregister(database, process_id)
    return failed


def prune_stale(
    database: str, backend_alias: str, *, threshold: float, exclude: Iterable[int] = ()
) -> list[int]:
    """Delete processes whose heartbeat is older than ``threshold`` seconds and fail their jobs.

    ``exclude`` names rows known to be alive whatever their heartbeat says
    (a supervisor's own live children, right after a database outage).
    """
    cutoff = timezone.now() - timedelta(seconds=threshold)
    stale = list(
        Process.objects.using(database)
        .filter(backend_alias=backend_alias, last_heartbeat_at__lt=cutoff)
        .exclude(pk__in=[pk for pk in exclude if pk is not None])
        .values_list("pk", "name", "last_heartbeat_at")
    )
    failed: list[int] = []
    for pk, name, seen in stale:
        age = (timezone.now() - seen).total_seconds()
        logger.warning("pruning %s: no heartbeat for %.0fs", name, age)
        failed += fail_claimed_jobs(
            database, [pk], ProcessPrunedError(f"process {name} sent no heartbeat for {age:.0f}s and was pruned")
        )
        deregister(database, pk)
    return failed


def fail_missing(database: str, backend_alias: str) -> list[int]:
    """Fail claimed jobs whose process row no longer exists."""
    known = Process.objects.using(database).values_list("pk", flat=True)
    orphans = (
        Job.objects.using(database)
        .filter(backend_alias=backend_alias, state="claimed")
        .exclude(process_id__in=known)
        .values_list("process_id", flat=True)
        .distinct()
    )
    failed: list[int] = []
    for pid in list(orphans):
        failed += fail_claimed_jobs(
            database, [pid], ProcessMissingError(f"the job was claimed by process {pid}, which is no longer registered")
        )
    return failed


def format_error(exc: BaseException) -> dict:
    return {
        "exception_class_path": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc)),
    }

