"""The overview: one backend's health at a glance, at the same cost for ten jobs and for ten million."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .pages import COUNT_CAP, Count

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
        """Jobs finished in the last complete minute."""
        return self.throughput[-2].finished if len(self.throughput) > 1 else 0

    @property
    def failed_last_minute(self) -> int:
        """Jobs failed in the last complete minute."""
        return self.throughput[-2].failed if len(self.throughput) > 1 else 0


def overview(backend_alias: str, *, count_cap: int = COUNT_CAP) -> Overview:
    """The overview of ``backend_alias``: a handful of index lookups plus one read of the rollup."""
    raise NotImplementedError
