"""Concurrency slots outside the hot path: dispatching limited scheduled jobs, and slot upkeep."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction

from ..concurrency import without_slot
from ..models import Job, Semaphore
from ..states import BLOCKED, READY, SCHEDULED, SLOT_HOLDING
from .handle import Handle

logger = logging.getLogger("djq.runtime")


def dispatch_due_limited(h: Handle, now: datetime, limit: int) -> int:
    """Due scheduled jobs with a concurrency key: take a slot, else block or discard."""
    database, backend_alias, dialect = h.database, h.alias, h.dialect
    woken: set[str] = set()
    with transaction.atomic(using=database):
        due = list(
            Job.objects.using(database)
            .select_for_update(skip_locked=h.skip_locked)
            .filter(state=SCHEDULED, backend_alias=backend_alias, scheduled_at__lte=now,
                    concurrency_key__isnull=False)
            .order_by("scheduled_at")
            .values("id", "queue_name", "concurrency_key", "concurrency_limit", "concurrency_duration",
                    "concurrency_on_conflict")[:limit]
        )
        # Slots in key order, as at enqueue: no two transactions wait on each other's semaphores.
        for job in sorted(due, key=lambda j: j["concurrency_key"]):
            duration = job["concurrency_duration"] or 0
            if dialect.acquire_slot(job["concurrency_key"], job["concurrency_limit"] or 1, duration, now):
                changes = {"state": READY}
                woken.add(job["queue_name"])
            else:
                changes = without_slot(job["concurrency_on_conflict"], now, duration)
            Job.objects.using(database).filter(pk=job["id"]).update(**changes)
    dialect.notify(backend_alias, sorted(woken))
    return len(due)


def reconcile(h: Handle, key: str, now: datetime) -> int:
    """Recount one key's slots from the jobs that hold them; hand free ones to blocked jobs.

    A slot is held by a ready or claimed job with the key, so recounting
    under the semaphore's row lock can never let in more than ``limit``
    jobs, and frees a slot whose holder vanished. Returns jobs unblocked.
    """
    database, dialect = h.database, h.dialect
    unblocked = 0
    woken: set[tuple[str, str]] = set()
    with transaction.atomic(using=database):
        semaphore = Semaphore.objects.using(database).select_for_update().filter(key=key).first()
        jobs = Job.objects.using(database).filter(concurrency_key=key)
        holders = jobs.filter(state__in=SLOT_HOLDING).count()
        blocked = jobs.filter(state=BLOCKED)
        sample = blocked.values("concurrency_limit", "concurrency_duration").first()
        if semaphore is None:
            if sample is None:
                return 0
            semaphore = Semaphore(key=key, value=0, limit=sample["concurrency_limit"] or 1,
                                  expires_at=now, created_at=now, updated_at=now)
        free = max(0, semaphore.limit - holders)
        waiting = list(
            blocked.select_for_update(skip_locked=h.skip_locked).order_by("-priority", "id")
            .values("id", "backend_alias", "queue_name")[:free]
        ) if free else []
        for job in waiting:
            Job.objects.using(database).filter(pk=job["id"]).update(state=READY, blocked_until=None)
            woken.add((job["backend_alias"], job["queue_name"]))
        unblocked = len(waiting)
        remaining = blocked.count() - unblocked if sample is not None else 0
        if holders + unblocked == 0 and remaining == 0:
            if semaphore.pk:
                semaphore.delete(using=database)
        else:
            duration = (sample or {}).get("concurrency_duration") or 60
            semaphore.value = free - unblocked
            semaphore.expires_at = now + timedelta(seconds=duration)
            semaphore.updated_at = now
            semaphore.save(using=database)
            if remaining:
                blocked.filter(blocked_until__lt=now).update(blocked_until=now + timedelta(seconds=duration))
    for alias, queue in woken:
        dialect.notify(alias, [queue])
    return unblocked


def maintain(h: Handle, now: datetime) -> int:
    """Reconcile every key whose semaphore or blocked jobs have expired."""
    database = h.database
    keys = set(Semaphore.objects.using(database).filter(expires_at__lt=now).values_list("key", flat=True))
    keys |= set(
        Job.objects.using(database).filter(state=BLOCKED, blocked_until__lt=now)
        .values_list("concurrency_key", flat=True).distinct()
    )
    unblocked = 0
    for key in sorted(k for k in keys if k):
        unblocked += reconcile(h, key, now)
    if unblocked:
        logger.info("concurrency maintenance unblocked %d jobs", unblocked)
    return unblocked
