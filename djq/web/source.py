"""Everything the web surfaces read and do, in one place, on top of ``djq.ops``.

The views, the metrics and the admin call only these functions, so that the
operations layer's read models can change shape without the web code
following them around.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from djq.config import djq_aliases, get_config, queue_matches
from djq.ops import jobs as ops_jobs
from djq.ops import queues as ops_queues
from djq.ops import recurring as ops_recurring
from djq.ops.documents import stats_document
from djq.ops.stats import snapshot as ops_snapshot

STATES = ("ready", "scheduled", "blocked", "claimed", "failed", "finished", "discarded")
COUNT_CAP = 10_000


def backends() -> list[str]:
    return list(djq_aliases())


def known_backend(alias: str) -> bool:
    return alias in djq_aliases()


def snapshot(backend_alias: str):
    return ops_snapshot(backend_alias)


def document(backend_alias: str) -> dict[str, Any]:
    """The ``stats.json`` document (the same one ``djq stats --json`` prints)."""
    return stats_document(snapshot(backend_alias))


# -- throughput ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Minute:
    at: datetime
    finished: int
    failed: int


@dataclass(frozen=True, slots=True)
class Totals:
    """Cumulative counts and sums for one (queue, task) from the per-minute rollup."""

    queue: str
    task_path: str
    finished: int
    failed: int
    run_seconds: float
    pickup_seconds: float


def throughput(backend_alias: str, snap=None) -> list[Minute]:
    """Finished and failed jobs per minute over the last hour, oldest first."""
    snap = snap or snapshot(backend_alias)
    history = getattr(snap, "throughput", None)
    if history is not None:
        return [Minute(m.minute, m.finished, m.failed) for m in history]
    return [Minute(snap.generated_at, snap.finished_last_minute, snap.failed_last_minute)]


def rollup_totals(backend_alias: str) -> list[Totals]:
    """Per queue and task: finished, failed, run time and pickup latency sums (empty without a rollup)."""
    return []


# -- processes ------------------------------------------------------------------------


def live_workers_by_queue(snap) -> dict[str, int]:
    """How many live worker processes serve each queue of the snapshot."""
    counts = {}
    workers = [p for p in snap.processes if p.kind == "worker" and p.alive]
    for q in snap.queues:
        counts[q.name] = sum(1 for p in workers
                             if any(queue_matches(sel, q.name) for sel in (p.metadata or {}).get("queues", ["*"])))
    return counts


# -- jobs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobQuery:
    """A filter on one state's jobs, as the admin's filter form spells it."""

    state: str
    queue: str = ""
    task_path: str = ""
    exception_class: str = ""
    text: str = ""

    def ops_filter(self, backend_alias: str, ids: tuple[int, ...] = ()) -> ops_jobs.JobFilter:
        return ops_jobs.JobFilter(
            backend_alias=backend_alias, states=(self.state,), queue=self.queue or None,
            task_path=self.task_path or None, exception_class=self.exception_class or None, ids=ids,
        )


@dataclass(frozen=True, slots=True)
class Page:
    rows: list
    count: int
    capped: bool  # the count stopped at COUNT_CAP
    next_cursor: str | None
    prev_cursor: str | None


def job_page(backend_alias: str, query: JobQuery, *, after: str | None = None, before: str | None = None,
             limit: int = 50) -> Page:
    rows = ops_jobs.list_jobs(query.ops_filter(backend_alias), limit=limit + 1,
                              before_id=int(after) if after else None)
    if query.text:
        needle = query.text.lower()
        rows = [r for r in rows if needle in (r.last_error or "").lower() or needle in r.task_path.lower()]
    more = len(rows) > limit
    rows = rows[:limit]
    count = len(ops_jobs.list_jobs(query.ops_filter(backend_alias), limit=COUNT_CAP + 1))
    return Page(rows=rows, count=min(count, COUNT_CAP), capped=count > COUNT_CAP,
                next_cursor=str(rows[-1].id) if more and rows else None, prev_cursor=None)


def match_count(backend_alias: str, query: JobQuery) -> tuple[int, bool]:
    """How many jobs match (exact up to COUNT_CAP) and whether the count stopped there."""
    page = job_page(backend_alias, query, limit=1)
    return page.count, page.capped


def job(backend_alias: str, job_id: int):
    return ops_jobs.get_job(backend_alias, job_id)


# -- verbs -----------------------------------------------------------------------------


def retry(backend_alias: str, query: JobQuery, ids: tuple[int, ...] = ()):
    return ops_jobs.retry(query.ops_filter(backend_alias, ids))


def discard(backend_alias: str, query: JobQuery, ids: tuple[int, ...] = ()):
    return ops_jobs.discard(query.ops_filter(backend_alias, ids))


def enqueue_again(backend_alias: str, job_id: int) -> int:
    return ops_jobs.enqueue_again(backend_alias, job_id)


def enqueue_again_matching(backend_alias: str, query: JobQuery, ids: tuple[int, ...] = ()) -> list[int]:
    """A fresh copy of each selected (or, without ids, each matching) job; returns the new ids."""
    targets = list(ids) or [r.id for r in ops_jobs.list_jobs(query.ops_filter(backend_alias), limit=COUNT_CAP)]
    return [ops_jobs.enqueue_again(backend_alias, job_id) for job_id in targets]


def pause_queue(backend_alias: str, name: str):
    return ops_queues.pause(backend_alias, name)


def resume_queue(backend_alias: str, name: str):
    return ops_queues.resume(backend_alias, name)


def clear_queue(backend_alias: str, name: str):
    return ops_queues.clear(backend_alias, name)


def recurring(backend_alias: str) -> list:
    return ops_recurring.list_recurring(backend_alias)


def pause_recurring(backend_alias: str, key: str):
    return ops_recurring.set_paused(backend_alias, key, True)


def resume_recurring(backend_alias: str, key: str):
    return ops_recurring.set_paused(backend_alias, key, False)


def run_recurring(backend_alias: str, key: str) -> int:
    return ops_recurring.run_now(backend_alias, key)


def unschedule_recurring(backend_alias: str, key: str) -> int:
    return ops_recurring.unschedule(key, backend_alias=backend_alias)


def database_for(backend_alias: str) -> str:
    return get_config(backend_alias).database_alias
