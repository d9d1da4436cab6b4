"""Plain values that cross the hot-path SQL boundary (no model instances)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(slots=True)
class NewJob:
    """A job about to be inserted; ``payload`` is already JSON text."""

    backend_alias: str
    queue_name: str
    task_path: str
    priority: int
    state: str
    payload: str
    enqueued_at: datetime
    scheduled_at: datetime
    concurrency_key: str | None = None
    concurrency_limit: int | None = None
    concurrency_duration: float | None = None
    concurrency_on_conflict: str | None = None
    blocked_until: datetime | None = None
    recurring_key: str | None = None
    finished_at: datetime | None = None
    run_after: datetime | None = None  # what the caller asked for; scheduled_at is when it may run


#: Columns the claim returns, in order; ``ClaimedJob.from_row`` reads them. Only what
#: execution needs and the claimer does not already know (its backend alias, its worker
#: id and the start time it wrote itself).
CLAIM_COLUMNS = (
    "id",
    "queue_name",
    "task_path",
    "priority",
    "payload",
    "enqueued_at",
    "scheduled_at",
    "attempts",
    "concurrency_key",
    "run_after",
)


@dataclass(slots=True)
class ClaimedJob:
    id: int
    backend_alias: str
    queue_name: str
    task_path: str
    priority: int
    payload: dict
    enqueued_at: datetime
    scheduled_at: datetime
    started_at: datetime
    attempts: list
    concurrency_key: str | None
    worker_id: str
    run_after: datetime | None = None

    @classmethod
    def from_row(cls, row: tuple, *, backend_alias: str, worker_id: str, started_at: datetime) -> ClaimedJob:
        """A claimed row (``CLAIM_COLUMNS``) and what its claimer wrote into it."""
        (id_, queue, path, priority, payload, enq, sched, attempts, key, after) = row
        return cls(
            id_, backend_alias, queue, path, priority, as_json(payload), as_aware(enq),
            as_aware(sched), started_at, as_json(attempts) or [], key, worker_id, as_aware(after),
        )


@dataclass(slots=True)
class Outcome:
    """What one finished attempt writes back to its job row."""

    id: int
    state: str  # finished | failed | scheduled (a retry)
    finished_at: datetime | None
    scheduled_at: datetime | None  # due time of a retry
    attempts: str  # JSON text of the whole attempt list
    return_value: str | None  # JSON text
    concurrency_key: str | None = None
    started_at: datetime | None = None  # when the attempt really started (claims set an estimate)
    #: The attempt's error (class path, message), stored on the row for the listings' filters.
    error_class: str | None = None
    error_message: str | None = None
    #: For the throughput rollup: where the job ran, when the attempt ended, how long it ran
    #: and how long it waited from its due time to its start.
    backend_alias: str = ""
    queue_name: str = ""
    task_path: str = ""
    ended_at: datetime | None = None
    run_seconds: float | None = None
    pickup_seconds: float | None = None


#: Characters of an error message kept on the row for text search (the attempt history keeps it all).
ERROR_MESSAGE_CHARS = 1000


@dataclass(slots=True)
class ThroughputDelta:
    """What one finish batch adds to one row of the per-minute rollup (``djq_throughput``)."""

    backend_alias: str
    minute: datetime
    queue_name: str
    task_path: str
    shard: int
    finished: int = 0
    failed: int = 0
    run_seconds: float = 0.0
    runs: int = 0
    pickup_seconds: float = 0.0
    pickups: int = 0

    @property
    def key(self) -> tuple:
        return (self.backend_alias, self.minute, self.queue_name, self.task_path, self.shard)


def throughput_deltas(outcomes, shard: int) -> list[ThroughputDelta]:
    """Sum outcomes per rollup row, in key order (writers lock rollup rows in one order: no deadlocks)."""
    rows: dict[tuple, ThroughputDelta] = {}
    for o in outcomes:
        if o.ended_at is None:
            continue
        minute = as_aware(o.ended_at).astimezone(UTC).replace(second=0, microsecond=0)
        delta = ThroughputDelta(o.backend_alias, minute, o.queue_name, o.task_path, shard)
        delta = rows.setdefault(delta.key, delta)
        delta.finished += o.state == "finished"
        delta.failed += o.state == "failed"
        if o.run_seconds is not None:
            delta.run_seconds += o.run_seconds
            delta.runs += 1
        if o.pickup_seconds is not None:
            delta.pickup_seconds += o.pickup_seconds
            delta.pickups += 1
    return [rows[k] for k in sorted(rows)]


def as_json(value: Any) -> Any:
    """Decode a JSON column read with a raw cursor (drivers differ)."""
    if isinstance(value, (str, bytes, bytearray)):
        return json.loads(value)
    return value


def as_aware(value: Any) -> datetime | None:
    """Normalise a timestamp read with a raw cursor to an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
