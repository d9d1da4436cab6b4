"""Everything the web surfaces read and do, in one place, on top of ``djq.ops``.

The views, the metrics and the admin call only these functions, so that the
operations layer's read models can change shape without the web code
following them around.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from djq.config import djq_aliases, queue_matches
from djq.ops import jobs as ops_jobs
from djq.ops import queues as ops_queues
from djq.ops import recurring as ops_recurring
from djq.ops import stats as ops_stats
from djq.ops.documents import stats_document
from djq.ops.pages import COUNT_CAP

STATES = ("ready", "scheduled", "blocked", "claimed", "failed", "finished", "discarded")


def backends() -> list[str]:
    return list(djq_aliases())


def known_backend(alias: str) -> bool:
    return alias in djq_aliases()


def snapshot(backend_alias: str):
    """The backend's snapshot, shared with every reader in the process for a second (``djq.ops.stats``)."""
    return ops_stats.snapshot(backend_alias)


def fresh_snapshot(backend_alias: str):
    """A snapshot read now (after an action, so that the page shows its effect)."""
    return ops_stats.snapshot(backend_alias, max_age=0)


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
    """Counts and sums for one (queue, task) from the per-minute rollup, since ``since``."""

    queue: str
    task_path: str
    finished: int
    failed: int
    runs: int
    run_seconds: float
    pickups: int
    pickup_seconds: float
    since: datetime


def throughput(backend_alias: str, snap=None) -> list[Minute]:
    """Finished and failed jobs per minute over the last hour, oldest first."""
    snap = snap or snapshot(backend_alias)
    return [Minute(p.minute, p.finished, p.failed) for p in snap.overview.throughput]


#: Counters restart at the start of each period (UTC). One hour keeps a scrape's sum over the rollup as
#: small as the overview's (at most 60 minutes of rows), and the rollup always holds the whole period.
COUNTER_PERIOD = timedelta(hours=1)


def counter_start(now: datetime) -> datetime:
    """The start of the current counter period: the same instant in every process that asks."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return epoch + ((now - epoch) // COUNTER_PERIOD) * COUNTER_PERIOD


def rollup_totals(backend_alias: str) -> list[Totals]:
    """Per queue and task: finished, failed, run time and pickup latency since the counter period began.

    Prometheus counters must only go up: they count from ``counter_start``
    (a fixed boundary that every web process agrees on), and restart at 0,
    with a new ``_created`` time, when the next period begins; ``rate()`` and
    ``increase()`` take that as an ordinary counter reset. The rollup keeps
    more than one period, so no minute of the current period is missing.
    """
    now = timezone.now()
    since = counter_start(now)
    minutes = int((now - since).total_seconds() // 60) + 1
    return [
        Totals(queue=r.queue_name, task_path=r.task_path, finished=r.finished, failed=r.failed, runs=r.runs,
               run_seconds=r.run_seconds, pickups=r.pickups, pickup_seconds=r.pickup_seconds, since=since)
        for r in ops_stats.throughput_rows(backend_alias, minutes=minutes)
    ]


# -- processes ------------------------------------------------------------------------


def live_workers_by_queue(snap) -> dict[str, int]:
    """How many live worker processes serve each queue of the snapshot."""
    workers = [p for p in snap.processes if p.kind == "worker" and p.alive]
    return {
        q.name: sum(1 for p in workers
                    if any(queue_matches(sel, q.name) for sel in (p.metadata or {}).get("queues", ["*"])))
        for q in snap.queues
    }


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


def job_page(backend_alias: str, query: JobQuery, *, after: str | None = None, before: str | None = None,
             limit: int = 50):
    """One page of jobs (``djq.ops.pages.Page``: rows, capped ``count``, ``next_cursor``, ``previous_cursor``)."""
    return ops_jobs.job_page(
        backend_alias, query.state, queue=query.queue or None, task_path=query.task_path or None,
        exception_class=query.exception_class or None, text=query.text or None, after=after, before=before,
        limit=limit, count_cap=COUNT_CAP,
    )


def match_count(backend_alias: str, query: JobQuery):
    """How many jobs match: a ``Count``, exact up to ``COUNT_CAP``."""
    return job_page(backend_alias, query, limit=1).count


def matching_ids(backend_alias: str, query: JobQuery, *, limit: int = COUNT_CAP) -> tuple[int, ...]:
    """The ids of the jobs matching ``query`` (at most ``limit``), page by page in the listing's order."""
    ids: list[int] = []
    after = None
    while len(ids) < limit:
        page = job_page(backend_alias, query, after=after, limit=min(1000, limit - len(ids)))
        ids += [r.id for r in page.rows]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    return tuple(ids)


def job(backend_alias: str, job_id: int):
    return ops_jobs.get_job(backend_alias, job_id)


# -- verbs -----------------------------------------------------------------------------


def _targets(backend_alias: str, query: JobQuery, ids: tuple[int, ...]) -> ops_jobs.JobFilter:
    """The bulk verbs' filter: the ids given, else the query (a text match goes through the listing's ids)."""
    if not ids and query.text:
        ids = matching_ids(backend_alias, query) or (0,)
    return query.ops_filter(backend_alias, ids)


def retry(backend_alias: str, query: JobQuery, ids: tuple[int, ...] = ()):
    return ops_jobs.retry(_targets(backend_alias, query, ids))


def discard(backend_alias: str, query: JobQuery, ids: tuple[int, ...] = ()):
    return ops_jobs.discard(_targets(backend_alias, query, ids))


def enqueue_again(backend_alias: str, job_id: int) -> int:
    return ops_jobs.enqueue_again(backend_alias, job_id)


def enqueue_again_matching(backend_alias: str, query: JobQuery, ids: tuple[int, ...] = ()) -> list[int]:
    """A fresh copy of each selected (or, without ids, each matching) job; returns the new ids."""
    targets = list(ids) or list(matching_ids(backend_alias, query))
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
    return ops_recurring.unschedule(backend_alias=backend_alias, key=key)
