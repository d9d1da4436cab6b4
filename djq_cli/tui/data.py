"""What the dashboard shows, and the one place it is read from.

The screens render the plain values below (frozen, safe to hand from a
worker thread to the event loop). ``OpsSource`` fills them from the
operations layer's read models; nothing else in the dashboard reads the
database, and no code here writes SQL or touches a model. ``FixedSource``
(in the tests) returns fixed values for the snapshot tests.

Every ``OpsSource`` method runs in a worker thread. Django connections are
per thread, so each pool thread owns one; ``OpsSource.run`` closes it after a
database error (and retries a read once on a fresh one), so a connection
that died while the database was away never sticks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

#: The state tabs of the Jobs screen, in order, with their labels.
JOB_TABS: tuple[tuple[str, str], ...] = (
    ("ready", "Ready"), ("scheduled", "Scheduled"), ("claimed", "Running"),
    ("blocked", "Blocked"), ("failed", "Failed"), ("finished", "Finished"),
)
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Counted:
    """A count that is exact up to a cap: ``10,000+`` beyond it."""

    value: int
    exact: bool = True

    def __str__(self) -> str:
        return f"{self.value:,}" if self.exact else f"{self.value:,}+"


@dataclass(frozen=True, slots=True)
class Minute:
    at: datetime
    finished: int
    failed: int


@dataclass(frozen=True, slots=True)
class QueueView:
    name: str
    ready: Counted
    scheduled: Counted
    running: Counted
    blocked: Counted
    failed: Counted
    latency: float | None
    paused: bool


@dataclass(frozen=True, slots=True)
class Busy:
    """A queue's jobs ended over the overview's hour."""

    name: str
    finished: int
    failed: int
    paused: bool


@dataclass(frozen=True, slots=True)
class Overview:
    totals: dict[str, Counted]
    throughput: tuple[Minute, ...]
    oldest_ready_age: float | None
    processes: dict[str, tuple[int, int]]  # kind -> (live, stale)
    paused_queues: tuple[str, ...]
    busiest: tuple[Busy, ...]
    generated_at: datetime


@dataclass(frozen=True, slots=True)
class JobFilters:
    """The Jobs screen's filter: each field narrows in the database."""

    queue: str | None = None
    task: str | None = None
    exception: str | None = None
    text: str | None = None
    concurrency_key: str | None = None

    @property
    def empty(self) -> bool:
        return not any((self.queue, self.task, self.exception, self.text, self.concurrency_key))

    def describe(self) -> str:
        parts = [f"{k}:{v}" for k, v in (("queue", self.queue), ("task", self.task), ("exception", self.exception),
                                          ("key", self.concurrency_key)) if v]
        if self.text:
            parts.append(repr(self.text))
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class JobView:
    id: int
    queue: str
    task: str
    state: str
    priority: int
    attempts: int
    enqueued_at: datetime
    scheduled_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    worker: str | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class JobPage:
    state: str
    rows: tuple[JobView, ...]
    total: Counted
    next_cursor: Any = None  # opaque; None when this is the last page
    prev_cursor: Any = None


@dataclass(frozen=True, slots=True)
class Attempt:
    number: int
    worker: str
    started_at: datetime | None
    finished_at: datetime | None
    duration: float | None
    error_class: str | None
    error_message: str | None
    traceback: str | None


@dataclass(frozen=True, slots=True)
class JobDetailView:
    job: JobView
    args: list
    kwargs: dict
    return_value: Any
    attempts: tuple[Attempt, ...]
    concurrency_key: str | None = None
    recurring_key: str | None = None


@dataclass(frozen=True, slots=True)
class ProcessView:
    id: int
    kind: str
    name: str
    host: str
    pid: int
    supervisor_id: int | None
    queues: tuple[str, ...]
    threads: int | None
    heartbeat_age: float
    alive: bool
    running: int
    running_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RecurringView:
    key: str
    task: str
    schedule: str
    words: str
    queue: str
    next_run_at: datetime | None  # None while paused
    last_run_at: datetime | None
    last_status: str | None
    paused: bool
    static: bool


@dataclass(frozen=True, slots=True)
class SemaphoreView:
    key: str
    free: int
    limit: int
    holders: int
    blocked: int
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Queues:
    rows: tuple[QueueView, ...]


@dataclass(frozen=True, slots=True)
class Processes:
    rows: tuple[ProcessView, ...]


@dataclass(frozen=True, slots=True)
class Recurring:
    rows: tuple[RecurringView, ...]


@dataclass(frozen=True, slots=True)
class Semaphores:
    rows: tuple[SemaphoreView, ...]
    blocked_jobs: dict[str, tuple[int, ...]] = field(default_factory=dict)


class Source(Protocol):
    """What the screens read. Implementations run every method in a worker thread."""

    backend_alias: str

    def run(self, fn: Callable[[], T], *, read: bool = True) -> T: ...
    def overview(self) -> Overview: ...
    def queues(self) -> Queues: ...
    def job_page(self, state: str, filters: JobFilters, cursor: Any = None) -> JobPage: ...
    def job_detail(self, job_id: int) -> JobDetailView: ...
    def processes(self) -> Processes: ...
    def recurring(self) -> Recurring: ...
    def semaphores(self) -> Semaphores: ...


# -- the operations layer -----------------------------------------------------------


def _count(count) -> Counted:
    """A read model's capped ``Count`` as the screens show it."""
    return Counted(int(count), not count.capped)


def _queue_view(q) -> QueueView:
    return QueueView(name=q.name, ready=_count(q.ready), scheduled=_count(q.scheduled), running=_count(q.claimed),
                     blocked=_count(q.blocked), failed=_count(q.failed), latency=q.latency, paused=q.paused)


def _job_view(j) -> JobView:
    return JobView(id=j.id, queue=j.queue_name, task=j.task_path, state=j.state, priority=j.priority,
                   attempts=j.attempts, enqueued_at=j.enqueued_at, scheduled_at=j.scheduled_at,
                   started_at=j.started_at, finished_at=j.finished_at, worker=j.worker_id, last_error=j.last_error)


class OpsSource:
    """Reads through the operations layer's read models for one backend alias."""

    def __init__(self, backend_alias: str = "default") -> None:
        self.backend_alias = backend_alias

    def run(self, fn: Callable[[], T], *, read: bool = True) -> T:
        """Run ``fn`` on this worker thread's connection.

        The connection stays open for the next unit of work on this thread
        (the pool has a handful of threads). After a database error it is
        closed; a read is then tried once more on a fresh connection, since
        a thread's idle connection may have died with an outage that is
        already over. A write is never repeated.
        """
        from django.db import Error, connections

        try:
            return fn()
        except Error:
            connections.close_all()  # this thread's connections only
            if not read:
                raise
        try:
            return fn()
        except Error:
            connections.close_all()
            raise

    # Screens ------------------------------------------------------------------

    def overview(self) -> Overview:
        from djq.ops.overview import overview

        o = overview(self.backend_alias)
        kinds = set(o.processes) | set(o.stale_processes)
        paused = set(o.paused_queues)
        return Overview(
            totals={state: _count(n) for state, n in o.totals.items()},
            throughput=tuple(Minute(p.minute, p.finished, p.failed) for p in o.throughput),
            oldest_ready_age=o.oldest_ready_age,
            processes={k: (o.processes.get(k, 0), o.stale_processes.get(k, 0)) for k in kinds},
            paused_queues=o.paused_queues,
            busiest=tuple(Busy(q.name, q.finished, q.failed, q.name in paused) for q in o.busiest_queues),
            generated_at=o.generated_at,
        )

    def queues(self) -> Queues:
        from djq.ops.queues import list_queues

        return Queues(tuple(_queue_view(q) for q in list_queues(self.backend_alias)))

    def job_page(self, state: str, filters: JobFilters, cursor: Any = None) -> JobPage:
        from djq.ops.jobs import job_page

        page = job_page(self.backend_alias, state, queue=filters.queue, task_path=filters.task,
                        exception_class=filters.exception, text=filters.text, after=cursor, limit=PAGE_SIZE)
        rows = tuple(_job_view(r) for r in page.rows)
        total = _count(page.count)
        if filters.concurrency_key:
            # The semaphores' drill-down. The read model has no key filter, so this narrows the page it
            # read (blocked jobs are few); the count is then this page's.
            rows = tuple(v for v, r in zip(rows, page.rows, strict=True)
                         if r.concurrency_key == filters.concurrency_key)
            total = Counted(len(rows), page.next_cursor is None)
        return JobPage(state=state, rows=rows, total=total, next_cursor=page.next_cursor,
                       prev_cursor=page.previous_cursor)

    def job_detail(self, job_id: int) -> JobDetailView:
        from djq.ops.jobs import get_job

        d = get_job(self.backend_alias, job_id)
        return JobDetailView(
            job=_job_view(d.job), args=d.args, kwargs=d.kwargs, return_value=d.return_value,
            attempts=tuple(Attempt(a.number, a.worker_id, a.started_at, a.finished_at, a.duration, a.error_class,
                                   a.error_message, a.traceback) for a in d.history),
            concurrency_key=d.job.concurrency_key, recurring_key=d.recurring_key,
        )

    def processes(self) -> Processes:
        from djq.ops.health import list_processes
        from djq.ops.jobs import job_page

        running = job_page(self.backend_alias, "claimed", limit=500)
        by_worker: dict[str, list[int]] = {}
        for j in running.rows:  # worker ids read "<process name>.<pid>@<host>"
            by_worker.setdefault((j.worker_id or "").split(".", 1)[0], []).append(j.id)
        rows = []
        for p in list_processes(self.backend_alias):
            meta = p.metadata or {}
            rows.append(ProcessView(
                id=p.id, kind=p.kind, name=p.name, host=p.hostname, pid=p.pid, supervisor_id=p.supervisor_id,
                queues=tuple(meta.get("queues") or ()), threads=meta.get("threads"), heartbeat_age=p.heartbeat_age,
                alive=p.alive, running=p.running,
                running_ids=tuple(sorted(by_worker.get(p.name, ()))) if p.kind == "worker" else (),
            ))
        return Processes(tuple(rows))

    def recurring(self) -> Recurring:
        from djq.ops.recurring import list_recurring

        return Recurring(tuple(
            RecurringView(key=t.key, task=t.task_path, schedule=t.schedule, words=t.schedule_description,
                          queue=t.queue_name, next_run_at=None if t.paused else t.next_run_at,
                          last_run_at=t.last_run_at, last_status=t.last_run_state,
                          paused=t.paused, static=t.static)
            for t in list_recurring(self.backend_alias)
        ))

    def semaphores(self) -> Semaphores:
        from djq.ops.semaphores import list_semaphores

        return Semaphores(tuple(SemaphoreView(key=s.key, free=s.free, limit=s.limit, holders=s.holders,
                                              blocked=s.blocked, expires_at=s.expires_at)
                                for s in list_semaphores(self.backend_alias)))
