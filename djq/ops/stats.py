"""One snapshot of a backend: what ``djq stats``, ``/stats.json``, the metrics and the dashboards read.

Building a snapshot costs a few bounded queries; it is kept for
``SNAPSHOT_MAX_AGE`` seconds in a process-wide cache that every reader
shares, so a dashboard refresh, a metrics scrape and a ``stats.json``
request arriving together cost one snapshot. The cache is thread-safe and
single-flight: while one thread builds a backend's snapshot, the others
asking for it wait for that one instead of building their own.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from .health import ProcessRow
from .overview import Overview
from .pages import COUNT_CAP, Count
from .queues import QueueRow
from .recurring import RecurringInfo
from .semaphores import SemaphoreRow

#: Seconds a snapshot is reused; ``snapshot(alias, max_age=...)`` overrides it per call, 0 forces a new one.
SNAPSHOT_MAX_AGE = 1.0


@dataclass(frozen=True, slots=True)
class ThroughputRow:
    """Per queue and task, sums over the rollup's window (for Prometheus counters and summaries).

    ``run_seconds`` / ``runs``: time spent running the attempts that ended
    (finished, failed, or retried), and how many; ``pickup_seconds`` /
    ``pickups``: time from due to start of those attempts, and how many.
    """

    queue_name: str
    task_path: str
    finished: int
    failed: int
    run_seconds: float
    runs: int
    pickup_seconds: float
    pickups: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a dashboard shows about one backend, read at ``generated_at``."""

    backend_alias: str
    database_alias: str
    generated_at: datetime
    totals: dict[str, Count]
    finished_last_minute: int
    failed_last_minute: int
    overview: Overview
    queues: tuple[QueueRow, ...]
    processes: tuple[ProcessRow, ...]
    recurring: tuple[RecurringInfo, ...]
    semaphores: tuple[SemaphoreRow, ...]
    #: Per queue and task over the last ``THROUGHPUT_MINUTES`` minutes.
    throughput: tuple[ThroughputRow, ...]

    @property
    def recurring_summary(self) -> RecurringSummary:
        upcoming = sorted((t for t in self.recurring if not t.paused and t.next_run_at), key=lambda t: t.next_run_at)
        return RecurringSummary(total=len(self.recurring), paused=sum(t.paused for t in self.recurring),
                                next_key=upcoming[0].key if upcoming else None,
                                next_run_at=upcoming[0].next_run_at if upcoming else None)


@dataclass(frozen=True, slots=True)
class RecurringSummary:
    """How many recurring tasks, how many paused, and which fires next."""

    total: int
    paused: int
    next_key: str | None
    next_run_at: datetime | None


def throughput_rows(backend_alias: str, *, minutes: int | None = None) -> tuple[ThroughputRow, ...]:
    """Sums of the per-minute rollup per queue and task, over the last ``minutes`` (default: the overview's)."""
    from django.db.models import Sum
    from django.utils import timezone

    from ..engine.handle import handle
    from ..models import Throughput
    from .overview import THROUGHPUT_MINUTES, minute_window

    start = minute_window(timezone.now(), minutes or THROUGHPUT_MINUTES)[0]
    sums = ("finished", "failed", "run_seconds", "runs", "pickup_seconds", "pickups")
    rows = (Throughput.objects.using(handle(backend_alias).database)
            .filter(backend_alias=backend_alias, minute__gte=start)
            .values("queue_name", "task_path").annotate(**{f"{c}_sum": Sum(c) for c in sums})
            .order_by("queue_name", "task_path"))
    return tuple(
        ThroughputRow(queue_name=r["queue_name"], task_path=r["task_path"],
                      **{c: r[f"{c}_sum"] or 0 for c in sums})
        for r in rows
    )


def build_snapshot(backend_alias: str, *, count_cap: int = COUNT_CAP) -> Snapshot:
    """A fresh snapshot, bypassing the cache (``snapshot`` is what readers call)."""
    from ..config import get_config
    from .health import list_processes
    from .overview import overview
    from .queues import list_queues
    from .recurring import list_recurring
    from .semaphores import list_semaphores

    ov = overview(backend_alias, count_cap=count_cap)
    return Snapshot(
        backend_alias=backend_alias, database_alias=get_config(backend_alias).database_alias,
        generated_at=ov.generated_at, totals=ov.totals, finished_last_minute=ov.finished_last_minute,
        failed_last_minute=ov.failed_last_minute, overview=ov,
        queues=tuple(list_queues(backend_alias)),
        processes=tuple(list_processes(backend_alias)), recurring=tuple(list_recurring(backend_alias)),
        semaphores=tuple(list_semaphores(backend_alias)), throughput=throughput_rows(backend_alias),
    )


class _Cache:
    """Snapshots by backend alias, each built by one thread at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Snapshot]] = {}
        self._building: dict[str, threading.Lock] = {}

    def get(self, backend_alias: str, max_age: float) -> Snapshot:
        entry = self._entries.get(backend_alias)
        if entry is not None and time.monotonic() - entry[0] <= max_age:
            return entry[1]
        with self._lock:
            building = self._building.setdefault(backend_alias, threading.Lock())
        with building:
            # Whoever held the lock before us may have just built it.
            entry = self._entries.get(backend_alias)
            if entry is not None and time.monotonic() - entry[0] <= max_age:
                return entry[1]
            started = time.monotonic()
            snap = build_snapshot(backend_alias)
            self._entries[backend_alias] = (started, snap)
            return snap

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_cache = _Cache()


def snapshot(backend_alias: str, *, max_age: float | None = None) -> Snapshot:
    """The backend's snapshot, at most ``max_age`` seconds old (default ``SNAPSHOT_MAX_AGE``).

    Shared by every thread of the process; concurrent callers wait for one build.
    """
    return _cache.get(backend_alias, SNAPSHOT_MAX_AGE if max_age is None else max_age)


def clear_snapshot_cache() -> None:
    """Forget every cached snapshot (tests, and after a write that must show at once)."""
    _cache.clear()
