"""Concurrency semaphores as operators see them: slots free and taken, and who waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from ..engine.handle import handle
from ..models import Job, Semaphore
from ..states import BLOCKED, SLOT_HOLDING


@dataclass(frozen=True, slots=True)
class SemaphoreInfo:
    key: str
    free: int
    limit: int
    holders: int
    blocked: int
    expires_at: datetime


def list_semaphores(backend_alias: str) -> list[SemaphoreInfo]:
    database = handle(backend_alias).database
    sems = list(Semaphore.objects.using(database).order_by("key"))
    counts = {
        row["concurrency_key"]: row
        for row in Job.objects.using(database)
        .filter(concurrency_key__in=[s.key for s in sems])
        .values("concurrency_key")
        .annotate(
            holders=Count("id", filter=Q(state__in=SLOT_HOLDING)),
            blocked=Count("id", filter=Q(state=BLOCKED)),
        )
    }
    return [
        SemaphoreInfo(
            key=s.key, free=s.value, limit=s.limit,
            holders=counts.get(s.key, {}).get("holders", 0),
            blocked=counts.get(s.key, {}).get("blocked", 0),
            expires_at=s.expires_at,
        )
        for s in sems
    ]
