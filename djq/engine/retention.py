"""Retention: deleting old finished, failed and discarded jobs and old recurring executions, in bounded batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..models import Job, RecurringExecution, Throughput
from ..states import DISCARDED, FAILED, FINISHED


@dataclass(frozen=True, slots=True)
class PruneResult:
    """Rows deleted (or, in a dry run, that would be) per kind, and whether more remain."""

    finished: int = 0
    failed: int = 0
    recurring_executions: int = 0
    dry_run: bool = False
    more_remaining: bool = False
    batches: int = 0
    details: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.finished + self.failed + self.recurring_executions


def _delete_in_batches(
    queryset, *, database: str, batch_size: int, budget: list[int], dry_run: bool,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, bool]:
    """Delete rows of ``queryset`` by id, ``batch_size`` at a time, while ``budget[0]`` batches remain."""
    deleted = 0
    while budget[0] > 0:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted, False
        if dry_run:
            # Count what a real run would delete: whole batches while the budget lasts.
            total = queryset.count()
            would = min(total, budget[0] * batch_size)
            budget[0] -= -(-would // batch_size)
            return would, total > would
        budget[0] -= 1
        with transaction.atomic(using=database):
            removed = queryset.model.objects.using(database).filter(pk__in=ids).delete()[0]
        deleted += removed
        if progress is not None:
            progress(removed)
        if len(ids) < batch_size:
            return deleted, False
    return deleted, queryset.exists()


def prune(
    database: str,
    *,
    backend_alias: str | None = None,
    finished_older_than: float | None = None,
    failed_older_than: float | None = None,
    recurring_older_than: float | None = None,
    task_path: str | None = None,
    task_key: str | None = None,
    batch_size: int = 1000,
    max_batches: int = 100,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> PruneResult:
    """Delete expired rows. ``None`` for an age skips that kind; batches commit one by one.

    ``progress`` is called after each committed batch with the rows it deleted.
    """
    now = timezone.now()
    budget = [max_batches]
    counts = {"finished": 0, "failed": 0, "recurring_executions": 0}
    more = False
    jobs = Job.objects.using(database)
    if backend_alias:
        jobs = jobs.filter(backend_alias=backend_alias)
    if task_path:
        jobs = jobs.filter(task_path=task_path)
    kinds = [
        ("finished", finished_older_than, (FINISHED, DISCARDED)),
        ("failed", failed_older_than, (FAILED,)),
    ]
    for name, age, states in kinds:
        if age is None:
            continue
        qs = jobs.filter(state__in=states, finished_at__lt=now - timedelta(seconds=age))
        n, left = _delete_in_batches(qs, database=database, batch_size=batch_size, budget=budget, dry_run=dry_run,
                                     progress=progress)
        counts[name] += n
        more = more or left
    if recurring_older_than is not None:
        qs = RecurringExecution.objects.using(database).filter(
            created_at__lt=now - timedelta(seconds=recurring_older_than)
        )
        if backend_alias:
            qs = qs.filter(backend_alias=backend_alias)
        if task_key:
            qs = qs.filter(task_key=task_key)
        n, left = _delete_in_batches(qs, database=database, batch_size=batch_size, budget=budget, dry_run=dry_run,
                                     progress=progress)
        counts["recurring_executions"] += n
        more = more or left
    return PruneResult(**counts, dry_run=dry_run, more_remaining=more, batches=max_batches - budget[0])


#: Seconds of the per-minute throughput rollup that retention keeps (the overview reads the last hour).
THROUGHPUT_RETENTION = 24 * 3600.0


def prune_throughput(database: str, backend_alias: str, *, older_than: float = THROUGHPUT_RETENTION) -> int:
    """Delete rollup rows of minutes older than ``older_than`` seconds; returns how many.

    Run every minute or so, each run deletes about one minute's rows (one
    per queue, task and shard), so one statement is a small one.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than)
    return Throughput.objects.using(database).filter(backend_alias=backend_alias, minute__lt=cutoff).delete()[0]
