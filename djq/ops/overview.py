"""The overview: one backend's health at a glance, at the same cost for ten jobs and for ten million."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from ..config import get_config
from ..db.rows import as_aware
from ..db.sql.reads import STATES, capped_counts, distinct_values, oldest_ready
from ..models import Pause, Process, Throughput
from .pages import COUNT_CAP, Count

PROCESS_KINDS = ("supervisor", "worker", "dispatcher", "scheduler")

#: Minutes of throughput history in an overview (and kept, at least, by retention of the rollup).
THROUGHPUT_MINUTES = 60


@dataclass(frozen=True, slots=True)
class ThroughputPoint:
    """Jobs that ended in one minute (``minute`` is its start, UTC): finished, and failed for good."""

    minute: datetime
    finished: int
    failed: int


@dataclass(frozen=True, slots=True)
class BusyQueue:
    """A queue's work over the overview's window (from the per-minute rollup)."""

    name: str
    finished: int
    failed: int


@dataclass(frozen=True, slots=True)
class Overview:
    """Totals, latency, processes, pauses and throughput of one backend.

    - ``totals``: jobs per state (every ``JobState``), each capped.
    - ``oldest_ready_age``: seconds the oldest ready job (any queue) has waited; ``None`` with none ready.
    - ``processes`` / ``stale_processes``: registered processes by kind, with a fresh / an old heartbeat.
    - ``paused_queues``: by name.
    - ``busiest_queues``: up to five queues with the most jobs ended in the window, most first.
    - ``throughput``: one point per minute, oldest first, the last one the current (partial) minute;
      always ``THROUGHPUT_MINUTES`` points (zeros where nothing ended).
    """

    backend_alias: str
    generated_at: datetime
    totals: dict[str, Count]
    oldest_ready_age: float | None
    processes: dict[str, int]
    stale_processes: dict[str, int]
    paused_queues: tuple[str, ...]
    busiest_queues: tuple[BusyQueue, ...]
    throughput: tuple[ThroughputPoint, ...]

    @property
    def finished_last_minute(self) -> int:
        """Jobs finished in the last 60 seconds (estimated from the per-minute rollup, see ``_last_minute``)."""
        return self._last_minute("finished")

    @property
    def failed_last_minute(self) -> int:
        """Jobs failed in the last 60 seconds (estimated from the per-minute rollup)."""
        return self._last_minute("failed")

    def _last_minute(self, what: str) -> int:
        # A sliding window over two fixed minutes: all of the current one,
        # plus the share of the previous one that is still within 60 seconds.
        if len(self.throughput) < 2:
            return getattr(self.throughput[-1], what) if self.throughput else 0
        elapsed = (self.generated_at - self.throughput[-1].minute).total_seconds() / 60
        earlier = getattr(self.throughput[-2], what) * max(0.0, 1.0 - elapsed)
        return getattr(self.throughput[-1], what) + round(earlier)

    @property
    def process_counts(self) -> dict[str, dict[str, int]]:
        """``{kind: {"live": n, "stale": n}}``, supervisors, workers, dispatchers, schedulers first."""
        kinds = sorted(set(self.processes) | set(self.stale_processes),
                       key=lambda k: (PROCESS_KINDS.index(k) if k in PROCESS_KINDS else len(PROCESS_KINDS), k))
        return {k: {"live": self.processes.get(k, 0), "stale": self.stale_processes.get(k, 0)} for k in kinds}


def overview(backend_alias: str, *, count_cap: int = COUNT_CAP) -> Overview:
    """The overview of ``backend_alias``: capped counts, one pass over the ready jobs, two reads of the rollup."""
    cfg = get_config(backend_alias)
    db = cfg.database_alias
    now = timezone.now()
    counts = capped_counts(db, backend_alias, [(state, None) for state in STATES], count_cap)
    ready_queues = [q for _state, q in distinct_values(db, backend_alias, ["ready"], "queue_name")]
    oldest = min((as_aware(t) for t in oldest_ready(db, backend_alias, ready_queues).values()), default=None)
    live: dict[str, int] = {}
    stale: dict[str, int] = {}
    for kind, seen in Process.objects.using(db).filter(backend_alias=backend_alias).values_list(
            "kind", "last_heartbeat_at"):
        bucket = live if (now - seen).total_seconds() <= cfg.process_alive_threshold else stale
        bucket[kind] = bucket.get(kind, 0) + 1
    paused = tuple(sorted(Pause.objects.using(db).filter(backend_alias=backend_alias)
                          .values_list("queue_name", flat=True)))
    minutes = minute_window(now)
    # One pass over the window's rollup rows, per minute and queue; both views are sums of it.
    per_minute: dict[datetime, list[int]] = {}
    per_queue: dict[str, list[int]] = {}
    for row in (Throughput.objects.using(db).filter(backend_alias=backend_alias, minute__gte=minutes[0])
                .values("minute", "queue_name").annotate(f=Sum("finished"), x=Sum("failed")).order_by()):
        for key, sums in ((_utc(row["minute"]), per_minute), (row["queue_name"], per_queue)):
            ended = sums.setdefault(key, [0, 0])
            ended[0] += row["f"] or 0
            ended[1] += row["x"] or 0
    busiest = sorted(per_queue.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))[:5]
    return Overview(
        backend_alias=backend_alias,
        generated_at=now,
        totals={state: Count.of(counts[(state, None)], count_cap) for state in STATES},
        oldest_ready_age=None if oldest is None else max(0.0, (now - oldest).total_seconds()),
        processes=live,
        stale_processes=stale,
        paused_queues=paused,
        busiest_queues=tuple(BusyQueue(name, finished, failed) for name, (finished, failed) in busiest),
        throughput=tuple(ThroughputPoint(m, *per_minute.get(m, (0, 0))) for m in minutes),
    )


def minute_window(now: datetime, minutes: int = THROUGHPUT_MINUTES) -> list[datetime]:
    """The starts of the last ``minutes`` minutes, oldest first, ending with the current one (UTC)."""
    current = now.astimezone(UTC).replace(second=0, microsecond=0)
    return [current - timedelta(minutes=n) for n in range(minutes - 1, -1, -1)]


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
