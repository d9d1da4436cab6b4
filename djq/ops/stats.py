"""One snapshot of a backend: what ``djq stats``, ``/stats.json``, metrics and the dashboard read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from ..engine.handle import handle
from ..models import Job
from ..states import FAILED, FINISHED, QUEUED
from .health import ProcessRow, list_processes
from .queues import QueueRow, list_queues
from .recurring import RecurringInfo, list_recurring
from .semaphores import SemaphoreInfo, list_semaphores


@dataclass(frozen=True, slots=True)
class Snapshot:
    backend_alias: str
    database_alias: str
    generated_at: datetime
    totals: dict[str, int]
    finished_last_minute: int
    failed_last_minute: int
    queues: list[QueueRow]
    processes: list[ProcessRow]
    recurring: list[RecurringInfo]
    semaphores: list[SemaphoreInfo]


def snapshot(backend_alias: str) -> Snapshot:
    db = handle(backend_alias).database
    now = timezone.now()
    queues = list_queues(backend_alias)
    totals = {state: sum(getattr(q, state) for q in queues) for state in QUEUED}
    recent = dict(
        Job.objects.using(db)
        .filter(backend_alias=backend_alias, state__in=(FINISHED, FAILED),
                finished_at__gte=now - timedelta(minutes=1))
        .values("state").annotate(n=Count("id")).order_by().values_list("state", "n")
    )
    return Snapshot(
        backend_alias=backend_alias, database_alias=db, generated_at=now, totals=totals,
        finished_last_minute=recent.get("finished", 0), failed_last_minute=recent.get("failed", 0),
        queues=queues, processes=list_processes(backend_alias), recurring=list_recurring(backend_alias),
        semaphores=list_semaphores(backend_alias),
    )
