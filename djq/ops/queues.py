"""Queues: counts by state, latency, and pause / resume / clear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count, Min
from django.utils import timezone

from ..engine.handle import handle
from ..exceptions import QueueNotFound
from ..models import Job, Pause
from ..states import QUEUED, READY
from .changes import BulkResult, Change


@dataclass(frozen=True, slots=True)
class QueueRow:
    name: str
    backend_alias: str
    ready: int
    scheduled: int
    claimed: int
    blocked: int
    failed: int
    paused: bool
    latency: float | None  # seconds the oldest ready job has waited
    oldest_ready_at: datetime | None


def list_queues(backend_alias: str, names: list[str] | None = None) -> list[QueueRow]:
    """Every queue with work, failures or a pause, with counts per state."""
    db = handle(backend_alias).database
    jobs = Job.objects.using(db).filter(backend_alias=backend_alias, state__in=QUEUED)
    if names:
        jobs = jobs.filter(queue_name__in=names)
    counts: dict[str, dict[str, int]] = {}
    for row in jobs.values("queue_name", "state").annotate(n=Count("id")).order_by():
        counts.setdefault(row["queue_name"], {})[row["state"]] = row["n"]
    oldest = dict(
        Job.objects.using(db).filter(backend_alias=backend_alias, state=READY)
        .values("queue_name").annotate(t=Min("scheduled_at")).order_by().values_list("queue_name", "t")
    )
    paused = set(Pause.objects.using(db).filter(backend_alias=backend_alias).values_list("queue_name", flat=True))
    found = set(counts) | paused
    if names:
        found |= set(names)
    now = timezone.now()
    return [
        QueueRow(
            name=name, backend_alias=backend_alias,
            ready=counts.get(name, {}).get("ready", 0), scheduled=counts.get(name, {}).get("scheduled", 0),
            claimed=counts.get(name, {}).get("claimed", 0), blocked=counts.get(name, {}).get("blocked", 0),
            failed=counts.get(name, {}).get("failed", 0), paused=name in paused,
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
              .aggregate(t=Min("scheduled_at"))["t"])
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
