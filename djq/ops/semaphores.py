"""Concurrency semaphores as operators see them: free slots, limits, and the jobs blocked on each key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count

from ..engine.handle import handle
from ..models import Job, Semaphore


@dataclass(frozen=True, slots=True)
class SemaphoreRow:
    """One concurrency key in use.

    ``holders`` is ``limit - free`` (the slots taken, by the semaphore's own
    accounting); ``blocked`` counts the jobs of every backend on the
    database waiting for a slot of this key.
    """

    key: str
    free: int
    limit: int
    holders: int
    blocked: int
    expires_at: datetime


def list_semaphores(backend_alias: str, *, key: str | None = None, limit: int = 1000) -> list[SemaphoreRow]:
    """The semaphores on ``backend_alias``'s database, by key (at most ``limit``; only ``key`` if given).

    Blocked-job counts come from one grouped query over the blocked jobs'
    index, for the keys listed.
    """
    db = handle(backend_alias).database
    semaphores = Semaphore.objects.using(db).order_by("key")
    if key is not None:
        semaphores = semaphores.filter(key=key)
    rows = list(semaphores.values_list("key", "value", "limit", "expires_at")[:limit])
    blocked = dict(
        Job.objects.using(db).filter(state="blocked", concurrency_key__in=[r[0] for r in rows])
        .values("concurrency_key").annotate(n=Count("id")).order_by().values_list("concurrency_key", "n")
    ) if rows else {}
    return [
        SemaphoreRow(key=k, free=value, limit=slots, holders=max(0, slots - value), blocked=blocked.get(k, 0),
                     expires_at=expires)
        for k, value, slots, expires in rows
    ]
