"""Queues: counts by state, latency, and pause / resume / clear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from ..db.rows import as_aware
from ..db.sql.reads import capped_counts, distinct_values, oldest_ready
from ..engine.handle import handle
from ..exceptions import QueueNotFound
from ..models import Job, Pause
from ..states import QUEUED, READY
from .changes import BulkResult, Change
from .pages import Count


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One queue: its jobs per state (each count capped), its pause, and its latency."""

    name: str
    backend_alias: str
    ready: Count
    scheduled: Count
    claimed: Count
    blocked: Count
    failed: Count
    paused: bool
    latency: float | None  # seconds the oldest ready job has waited
    oldest_ready_at: datetime | None


#: A queue row's counts stop here ("1,000+"): a table of queues costs up to five counts per queue.
QUEUE_COUNT_CAP = 1_000


def list_queues(backend_alias: str, names: list[str] | None = None, *,
                count_cap: int = QUEUE_COUNT_CAP) -> list[QueueRow]:
    """Every queue with waiting, running or failed jobs, or a pause (or the ones in ``names``), by name.

    Each count stops at ``count_cap`` (``Count.capped``), so the cost is
    bounded by the number of queues and the cap, never by the table: the
    queue names come from a loose index scan of each state's index, each
    count from a ``LIMIT count_cap + 1`` subquery on the same index, the
    latency from the first entry of the queue's range of ``djq_job_ready_age``.
    """
    db = handle(backend_alias).database
    if names:
        groups = [(state, name) for name in names for state in QUEUED]
    else:
        groups = distinct_values(db, backend_alias, QUEUED, "queue_name")
    counts = capped_counts(db, backend_alias, groups, count_cap)
    oldest = {q: as_aware(t) for q, t in
              oldest_ready(db, backend_alias, sorted({q for s, q in groups if s == READY})).items()}
    paused = set(Pause.objects.using(db).filter(backend_alias=backend_alias).values_list("queue_name", flat=True))
    found = {queue for _state, queue in groups} | paused
    if names:
        found = set(names)
    now = timezone.now()
    return [
        QueueRow(
            name=name, backend_alias=backend_alias,
            **{state: Count.of(counts.get((state, name), 0), count_cap) for state in QUEUED},
            paused=name in paused,
            latency=(now - oldest[name]).total_seconds() if name in oldest else None,
            oldest_ready_at=oldest.get(name),
        )
        for name in sorted(found)
    ]


def get_queue(backend_alias: str, name: str) -> QueueRow:
    return list_queues(backend_alias, [name])[0]


def find_queue(backend_alias: str, name: str) -> QueueRow:
    """The queue ``name``; ``QueueNotFound`` unless QUEUES names it, it holds a job (any state) or is paused."""
    h = handle(backend_alias)
    cfg, db = h.config, h.database
    known = (name in cfg.queues
             or Job.objects.using(db).filter(backend_alias=backend_alias, queue_name=name).exists()
             or Pause.objects.using(db).filter(backend_alias=backend_alias, queue_name=name).exists())
    if not known:
        raise QueueNotFound(f"no queue {name!r} in backend {backend_alias!r}; list them with `djq queues list`")
    return get_queue(backend_alias, name)


def size(backend_alias: str, name: str) -> int:
    db = handle(backend_alias).database
    return Job.objects.using(db).filter(backend_alias=backend_alias, queue_name=name, state=READY).count()


def latency(backend_alias: str, name: str) -> float | None:
    db = handle(backend_alias).database
    oldest = (Job.objects.using(db).filter(backend_alias=backend_alias, queue_name=name, state=READY)
              .aggregate(t=models.Min("scheduled_at"))["t"])
    return None if oldest is None else (timezone.now() - oldest).total_seconds()


def is_paused(backend_alias: str, name: str) -> bool:
    pauses = Pause.objects.using(handle(backend_alias).database)
    return pauses.filter(backend_alias=backend_alias, queue_name=name).exists()


def pause(backend_alias: str, name: str) -> Change:
    """Stop claims from ``name`` (enqueueing and running jobs go on). Idempotent."""
    db = handle(backend_alias).database
    try:
        with transaction.atomic(using=db):
            _, created = Pause.objects.using(db).get_or_create(
                backend_alias=backend_alias, queue_name=name, defaults={"created_at": timezone.now()}
            )
    except IntegrityError:
        created = False  # paused concurrently by someone else
    return Change(name, created, f"paused {name}" if created else f"{name} is already paused")


def resume(backend_alias: str, name: str) -> Change:
    """Let workers claim from ``name`` again. Idempotent."""
    db = handle(backend_alias).database
    deleted, _ = Pause.objects.using(db).filter(backend_alias=backend_alias, queue_name=name).delete()
    if deleted:
        handle(backend_alias).dialect.notify(backend_alias, [name])
    return Change(name, bool(deleted), f"resumed {name}" if deleted else f"{name} is not paused")


def clear(backend_alias: str, name: str, *, batch_size: int = 1000, dry_run: bool = False) -> BulkResult:
    """Discard the ready jobs of ``name`` (only ready ones), a batch per transaction."""
    from .jobs import JobFilter, discard

    return discard(JobFilter(backend_alias=backend_alias, states=(READY,), queue=name),
                   batch_size=batch_size, dry_run=dry_run)
