"""Runtime process rows: registration, heartbeats, pruning and the recovery of their jobs."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..exceptions import DjqError, ProcessExitError, ProcessMissingError, ProcessPrunedError
from ..models import Job, Process
from ..safe_text import for_log
from ..states import CLAIMED
from .execution import recovered_outcome_or_failure
from .finish import write_outcomes
from .handle import Handle

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


def fail_claimed_jobs(h: Handle, process_ids: Iterable[int], error: DjqError) -> list[int]:
    """Fail every job still claimed by these processes with ``error``; returns their ids.

    The jobs count the interrupted attempt, and a task's retry policy may
    schedule them again (see ``djq.engine.execution.recovered_outcome``).
    They are written through the same finish as a worker's own outcomes,
    one batch per process.
    """
    failed: list[int] = []
    now = timezone.now()
    for process_id in dict.fromkeys(pk for pk in process_ids if pk is not None):
        with transaction.atomic(using=h.database):
            jobs = list(
                Job.objects.using(h.database)
                .select_for_update()
                .filter(state=CLAIMED, process_id=process_id)
                .values("id", "task_path", "backend_alias", "queue_name", "attempts", "started_at", "worker_id",
                        "concurrency_key")
            )
            if not jobs:
                continue
            outcomes = [recovered_outcome_or_failure(job, error, now) for job in jobs]
            # The rows are locked: every outcome is written.
            write_outcomes(h, process_id, outcomes, now=now)
        for outcome in outcomes:
            failed.append(outcome.id)
            logger.warning("job %s failed: %s", outcome.id, for_log(error))
    return failed


def handle_exited(h: Handle, process_id: int, reason: str) -> list[int]:
    """A child process exited: fail what it held and forget it."""
    failed = fail_claimed_jobs(h, [process_id], ProcessExitError(reason))
    deregister(h.database, process_id)
    return failed


def prune_stale(h: Handle, *, threshold: float, exclude: Iterable[int] = ()) -> list[int]:
    """Delete processes whose heartbeat is older than ``threshold`` seconds and fail their jobs.

    ``exclude`` names rows this caller knows about better (a supervisor's
    own children, which it stops before it recovers their work); children of
    another live supervisor are left to that supervisor likewise. A row is
    deleted only while its heartbeat is still stale, and before its jobs are
    failed: a process whose heartbeat got through meanwhile keeps its row and
    its jobs, and one that was pruned finds out at its next heartbeat.
    """
    cutoff = timezone.now() - timedelta(seconds=threshold)
    rows = Process.objects.using(h.database).filter(backend_alias=h.alias)
    stale = list(
        rows.filter(last_heartbeat_at__lt=cutoff)
        .exclude(pk__in=[pk for pk in exclude if pk is not None])
        .values_list("pk", "name", "last_heartbeat_at", "supervisor_id")
    )
    if not stale:
        return []
    # A child whose supervisor is alive is that supervisor's to prune: it can
    # stop the child first, where anyone else would fail the jobs of a
    # process that may still be running them.
    watched = set(rows.filter(kind="supervisor", last_heartbeat_at__gte=cutoff).values_list("pk", flat=True))
    failed: list[int] = []
    for pk, name, seen, supervisor_id in stale:
        if supervisor_id in watched:
            continue
        if not Process.objects.using(h.database).filter(pk=pk, last_heartbeat_at__lt=cutoff).delete()[0]:
            continue  # it heartbeated (or someone else pruned it) since we looked
        age = (timezone.now() - seen).total_seconds()
        logger.warning("pruning %s: no heartbeat for %.0fs", name, age)
        failed += fail_claimed_jobs(
            h, [pk], ProcessPrunedError(f"process {name} sent no heartbeat for {age:.0f}s and was pruned")
        )
    return failed


def fail_missing(h: Handle) -> list[int]:
    """Fail claimed jobs whose process row no longer exists."""
    known = Process.objects.using(h.database).values_list("pk", flat=True)
    orphans = (
        Job.objects.using(h.database)
        .filter(backend_alias=h.alias, state=CLAIMED)
        .exclude(process_id__in=known)
        .values_list("process_id", flat=True)
        .distinct()
    )
    failed: list[int] = []
    for pid in list(orphans):
        failed += fail_claimed_jobs(
            h, [pid], ProcessMissingError(f"the job was claimed by process {pid}, which is no longer registered")
        )
    return failed
