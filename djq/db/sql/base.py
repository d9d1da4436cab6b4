"""The interface every vendor implements, with the statements they share."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connections, transaction

from ... import selectors as queue_selectors
from ..rows import CLAIM_COLUMNS, ClaimedJob, NewJob, Outcome, ThroughputDelta, throughput_deltas

INSERT_COLUMNS = (
    "backend_alias",
    "queue_name",
    "task_path",
    "priority",
    "state",
    "payload",
    "enqueued_at",
    "scheduled_at",
    "attempts",
    "concurrency_key",
    "concurrency_limit",
    "concurrency_duration",
    "concurrency_on_conflict",
    "blocked_until",
    "recurring_key",
    "finished_at",
    "run_after",
)

#: Columns of the per-minute rollup: its key, then the sums a finish adds.
THROUGHPUT_KEY = ("backend_alias", "minute", "queue_name", "task_path", "shard")
THROUGHPUT_SUMS = ("finished", "failed", "run_seconds", "runs", "pickup_seconds", "pickups")


def throughput_shard(process_id: int | None) -> int:
    """The rollup shard a process writes (see ``djq.models.Throughput``)."""
    from ...models.throughput import Throughput

    return (process_id or 0) % Throughput.SHARDS


#: The channel LISTEN/NOTIFY wake-ups use; the payload is "<backend alias>:<queue>".
NOTIFY_CHANNEL = "djq"

PAUSED = "queue_name NOT IN (SELECT queue_name FROM djq_pause WHERE backend_alias = %s)"


normalise_selectors = queue_selectors.normalise
selector_clause = queue_selectors.sql_clause


class Dialect:
    """Hot-path statements for one database alias.

    Subclasses override what their vendor does better; this base holds the
    portable versions, which are correct everywhere.
    """

    vendor = ""
    #: Whether JSON text may contain a NUL character (PostgreSQL's jsonb refuses it).
    stores_nul = True
    #: Rows per multi-row INSERT; keeps parameter counts under every vendor's limit.
    insert_chunk = 500
    can_return_inserted = True

    def __init__(self, database: str, *, use_skip_locked: bool = True, notify: bool = True) -> None:
        self.database = database
        self.use_skip_locked = use_skip_locked
        self.notify_enabled = notify
        self.returning = CLAIM_COLUMNS_SQL

    @property
    def connection(self):
        return connections[self.database]

    def cursor(self):
        return self.connection.cursor()

    def dt(self, value: datetime | None) -> Any:
        """A datetime as the driver wants it in a raw statement."""
        if value is None:
            return None
        return self.connection.ops.adapt_datetimefield_value(value)

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        """One transaction around several writes (joins the caller's if there is one)."""
        with transaction.atomic(using=self.database, savepoint=False):
            yield

    # -- enqueue --------------------------------------------------------------

    def _insert_params(self, job: NewJob) -> list[Any]:
        return [
            job.backend_alias, job.queue_name, job.task_path, job.priority, job.state,
            job.payload, self.dt(job.enqueued_at), self.dt(job.scheduled_at), "[]",
            job.concurrency_key, job.concurrency_limit, job.concurrency_duration,
            job.concurrency_on_conflict, self.dt(job.blocked_until), job.recurring_key,
            self.dt(job.finished_at), self.dt(job.run_after),
        ]

    def _values_row(self) -> str:
        return "(" + ", ".join(["%s"] * len(INSERT_COLUMNS)) + ")"

    def insert_jobs(self, jobs: Sequence[NewJob]) -> list[int]:
        """Insert jobs and return their ids in input order."""
        if len(jobs) <= self.insert_chunk:
            return self._insert_chunk(jobs)
        ids: list[int] = []
        with self.write_transaction():
            for start in range(0, len(jobs), self.insert_chunk):
                ids.extend(self._insert_chunk(jobs[start : start + self.insert_chunk]))
        return ids

    def _insert_chunk(self, jobs: Sequence[NewJob]) -> list[int]:
        columns = ", ".join(INSERT_COLUMNS)
        params: list[Any] = []
        for job in jobs:
            params.extend(self._insert_params(job))
        values = ", ".join([self._values_row()] * len(jobs))
        with self.cursor() as cursor:
            if self.can_return_inserted:
                cursor.execute(
                    f"INSERT INTO djq_job ({columns}) VALUES {values} RETURNING id", params
                )
                return sorted(row[0] for row in cursor.fetchall())
            ids = []
            one = f"INSERT INTO djq_job ({columns}) VALUES {self._values_row()}"
            for job in jobs:
                cursor.execute(one, self._insert_params(job))
                ids.append(cursor.lastrowid)
            return ids

    def notify(self, backend_alias: str, queues: Sequence[str]) -> None:
        """Wake listening workers; only PostgreSQL has a way to."""

    # -- claim ----------------------------------------------------------------

    def lock_clause(self) -> str:
        return ""

    def _picked_sql(self, backend_alias: str, selectors: Sequence[str], limit: int) -> tuple[str, list]:
        """CTEs that pick (and on servers, lock) up to ``limit`` ready ids in claim order."""
        lock = self.lock_clause()
        ctes, params = [], []
        for rank, selector in enumerate(selectors):
            clause, extra = selector_clause(selector)
            ctes.append(
                f"s{rank} AS (SELECT id, priority FROM djq_job"
                f" WHERE state = 'ready' AND backend_alias = %s{clause} AND {PAUSED}"
                f" ORDER BY priority DESC, id LIMIT %s{lock})"
            )
            params += [backend_alias, *extra, backend_alias, limit]
        if len(selectors) == 1:
            picked = "SELECT id FROM s0"
        else:
            union = " UNION ALL ".join(
                f"SELECT id, {rank} AS sel_rank, priority FROM s{rank}" for rank in range(len(selectors))
            )
            picked = f"SELECT id FROM ({union}) AS u ORDER BY sel_rank, priority DESC, id LIMIT %s"
            params.append(limit)
        return "WITH " + ", ".join(ctes) + f", picked AS ({picked})", params

    def claim_sql(
        self, backend_alias: str, selectors: Sequence[str], limit: int, *, process_id: int, worker_id: str,
        now: datetime,
    ) -> tuple[str, list]:
        """The claim statement and its parameters (``claim`` runs it; the plan tests explain it)."""
        head, params = self._picked_sql(backend_alias, normalise_selectors(selectors), limit)
        sql = (
            f"{head} UPDATE djq_job SET state = 'claimed', process_id = %s, worker_id = %s,"
            f" started_at = %s WHERE id IN (SELECT id FROM picked) RETURNING {self.returning}"
        )
        return sql, [*params, process_id, worker_id, self.dt(now)]

    def claim(
        self,
        backend_alias: str,
        selectors: Sequence[str],
        limit: int,
        *,
        process_id: int,
        worker_id: str,
        now: datetime,
    ) -> list[ClaimedJob]:
        """Move up to ``limit`` ready jobs to claimed by this process, in one statement."""
        selectors = normalise_selectors(selectors)
        sql, params = self.claim_sql(backend_alias, selectors, limit, process_id=process_id, worker_id=worker_id,
                                     now=now)
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return sort_claimed(selectors, rows, backend_alias=backend_alias, worker_id=worker_id, now=now)

    def finish_and_claim(
        self,
        process_id: int,
        outcomes: Sequence[Outcome],
        backend_alias: str,
        selectors: Sequence[str],
        limit: int,
        *,
        worker_id: str,
        now: datetime,
    ) -> tuple[int, list[ClaimedJob]]:
        """Record finished attempts and claim more; vendors that can do both in one round trip do."""
        changed = self.finish(process_id, outcomes)
        return changed, self.claim(backend_alias, selectors, limit, process_id=process_id, worker_id=worker_id,
                                   now=now)

    # -- finish ---------------------------------------------------------------

    # An attempt without an error keeps the row's last error (COALESCE): a
    # job that failed, was retried and then finished still shows why it failed.
    FINISH_ONE = (
        "UPDATE djq_job SET state = %s, finished_at = %s, scheduled_at = COALESCE(%s, scheduled_at),"
        " started_at = COALESCE(%s, started_at), attempts = %s, return_value = %s, process_id = NULL,"
        " worker_id = NULL, error_class = COALESCE(%s, error_class), error_message = COALESCE(%s, error_message)"
        " WHERE id = %s AND state = 'claimed' AND process_id = %s"
    )

    def finish(self, process_id: int, outcomes: Sequence[Outcome]) -> int:
        """Write the outcome of finished attempts, and add them to the throughput rollup, in one transaction.

        Only rows that process ``process_id`` still holds change, and only
        those are counted (recovery passes the dead process's id).
        """
        if not outcomes:
            return 0
        with self.write_transaction(), self.cursor() as cursor:
            written = []
            for o in outcomes:
                cursor.execute(self.FINISH_ONE, [
                    o.state, self.dt(o.finished_at), self.dt(o.scheduled_at), self.dt(o.started_at),
                    o.attempts, o.return_value, o.error_class, o.error_message, o.id, process_id,
                ])
                if cursor.rowcount:
                    written.append(o)
            self.add_throughput(throughput_deltas(written, throughput_shard(process_id)))
            return len(written)

    def delete_finished(self, process_id: int, outcomes: Sequence[Outcome]) -> int:
        """Delete finished jobs outright (``preserve_finished_jobs = False``), counting them in the rollup."""
        if not outcomes:
            return 0
        with self.write_transaction():
            held = set(self.held_ids(process_id, [o.id for o in outcomes]))
            deleted = self.delete_claimed(process_id, sorted(held))
            self.add_throughput(throughput_deltas([o for o in outcomes if o.id in held], throughput_shard(process_id)))
            return deleted

    def held_ids(self, process_id: int, ids: Sequence[int]) -> list[int]:
        """Which of ``ids`` this process still holds, locked until the transaction ends."""
        marks = ", ".join(["%s"] * len(ids))
        lock = "" if self.vendor == "sqlite" else " FOR UPDATE"
        with self.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM djq_job WHERE id IN ({marks}) AND state = 'claimed' AND process_id = %s{lock}",
                [*ids, process_id],
            )
            return [row[0] for row in cursor.fetchall()]

    def throughput_upsert(self) -> str:
        """The clause that adds a rollup row's sums to an existing row with the same key."""
        sums = ", ".join(f"{c} = djq_throughput.{c} + excluded.{c}" for c in THROUGHPUT_SUMS)
        return f"ON CONFLICT ({', '.join(THROUGHPUT_KEY)}) DO UPDATE SET {sums}"

    def add_throughput(self, deltas: Sequence[ThroughputDelta]) -> None:
        """Add one finish batch to the per-minute rollup (rows in key order, so writers never deadlock)."""
        if not deltas:
            return
        columns = (*THROUGHPUT_KEY, *THROUGHPUT_SUMS)
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
        params: list[Any] = []
        for d in deltas:
            params += [d.backend_alias, self.dt(d.minute), d.queue_name, d.task_path, d.shard,
                       d.finished, d.failed, d.run_seconds, d.runs, d.pickup_seconds, d.pickups]
        with self.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO djq_throughput ({', '.join(columns)}) VALUES {', '.join([row] * len(deltas))}"
                f" {self.throughput_upsert()}",
                params,
            )

    def delete_claimed(self, process_id: int, ids: Sequence[int]) -> int:
        """Remove successful jobs outright (``preserve_finished_jobs = False``)."""
        if not ids:
            return 0
        marks = ", ".join(["%s"] * len(ids))
        with self.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM djq_job WHERE id IN ({marks}) AND state = 'claimed' AND process_id = %s",
                [*ids, process_id],
            )
            return cursor.rowcount

    def release(self, process_id: int, ids: Sequence[int] | None = None) -> int:
        """Hand claimed jobs that never started back to the ready set."""
        sql = (
            "UPDATE djq_job SET state = 'ready', process_id = NULL, worker_id = NULL, started_at = NULL"
            " WHERE state = 'claimed' AND process_id = %s"
        )
        params: list[Any] = [process_id]
        if ids is not None:
            if not ids:
                return 0
            sql += " AND id IN (" + ", ".join(["%s"] * len(ids)) + ")"
            params += list(ids)
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def claimed_ids(self, process_id: int) -> list[int]:
        with self.cursor() as cursor:
            cursor.execute("SELECT id FROM djq_job WHERE state = 'claimed' AND process_id = %s", [process_id])
            return [row[0] for row in cursor.fetchall()]

    # -- dispatch -------------------------------------------------------------

    def promote_due_and_check(self, backend_alias: str, now: datetime, limit: int) -> tuple[int, bool]:
        """``promote_due``, and whether due jobs with a concurrency key may be waiting too."""
        return self.promote_due(backend_alias, now, limit), True

    def promote_due(self, backend_alias: str, now: datetime, limit: int) -> int:
        """Make due scheduled jobs without a concurrency key ready; returns how many."""
        lock = self.lock_clause()
        with self.write_transaction(), self.cursor() as cursor:
            cursor.execute(
                "SELECT id, queue_name FROM djq_job WHERE state = 'scheduled' AND backend_alias = %s"
                f" AND scheduled_at <= %s AND concurrency_key IS NULL ORDER BY scheduled_at LIMIT %s{lock}",
                [backend_alias, self.dt(now), limit],
            )
            rows = cursor.fetchall()
            if not rows:
                return 0
            ids = [r[0] for r in rows]
            cursor.execute(
                "UPDATE djq_job SET state = 'ready' WHERE state = 'scheduled' AND id IN ("
                + ", ".join(["%s"] * len(ids))
                + ")",
                ids,
            )
            self.notify(backend_alias, sorted({r[1] for r in rows}))
            return cursor.rowcount


    # -- concurrency slots ------------------------------------------------------
    # Both run inside the caller's transaction (enqueue, finish), so a crash
    # between them and the job's own write leaks nothing.

    def acquire_slot(self, key: str, limit: int, duration: float, now: datetime) -> bool:
        """Take one slot of ``key``; False when all ``limit`` slots are taken."""
        expires = self.dt(now + timedelta(seconds=duration))
        lock = "" if self.vendor == "sqlite" else " FOR UPDATE"
        with self.cursor() as cursor:
            for _ in range(2):
                cursor.execute(f"SELECT value FROM djq_semaphore WHERE concurrency_key = %s{lock}", [key])
                row = cursor.fetchone()
                if row is not None:
                    if row[0] <= 0:
                        return False
                    cursor.execute(
                        "UPDATE djq_semaphore SET value = value - 1, slot_limit = %s, expires_at = %s,"
                        " updated_at = %s WHERE concurrency_key = %s",
                        [limit, expires, self.dt(now), key],
                    )
                    return True
                try:
                    # A racing first acquirer makes this insert fail; then the
                    # row exists and the loop takes the update path.
                    with transaction.atomic(using=self.database):
                        cursor.execute(
                            "INSERT INTO djq_semaphore"
                            " (concurrency_key, value, slot_limit, expires_at, created_at, updated_at)"
                            " VALUES (%s, %s, %s, %s, %s, %s)",
                            [key, limit - 1, limit, expires, self.dt(now), self.dt(now)],
                        )
                    return True
                except IntegrityError:
                    continue
        return False

    def release_slot(self, key: str, now: datetime) -> tuple[str, str] | None:
        """Give back one slot of ``key``: to the next blocked job if any, else to the semaphore.

        The semaphore row is locked first so that an enqueue deciding to
        block under the same key either commits before we look for blocked
        jobs or sees the freed slot. Returns (backend alias, queue) of a job
        it made ready, for the wake-up.
        """
        lock = "" if self.vendor == "sqlite" else " FOR UPDATE"
        with self.cursor() as cursor:
            cursor.execute(f"SELECT value, slot_limit FROM djq_semaphore WHERE concurrency_key = %s{lock}", [key])
            if cursor.fetchone() is None:
                return None
            cursor.execute(
                "SELECT id, backend_alias, queue_name, concurrency_duration FROM djq_job"
                " WHERE state = 'blocked' AND concurrency_key = %s"
                f" ORDER BY priority DESC, id LIMIT 1{self.lock_clause()}",
                [key],
            )
            row = cursor.fetchone()
            if row is not None:
                job_id, alias, queue, duration = row
                cursor.execute(
                    "UPDATE djq_job SET state = 'ready', blocked_until = NULL, scheduled_at = %s WHERE id = %s",
                    [self.dt(now), job_id],
                )
                cursor.execute(
                    "UPDATE djq_semaphore SET expires_at = %s, updated_at = %s WHERE concurrency_key = %s",
                    [self.dt(now + timedelta(seconds=duration or 0)), self.dt(now), key],
                )
                return alias, queue
            cursor.execute(
                "UPDATE djq_semaphore SET value = CASE WHEN value < slot_limit THEN value + 1 ELSE value END,"
                " updated_at = %s WHERE concurrency_key = %s",
                [self.dt(now), key],
            )
        return None


CLAIM_COLUMNS_SQL = ", ".join(CLAIM_COLUMNS)


def sort_claimed(
    selectors: Sequence[str], rows: Sequence[tuple], *, backend_alias: str, worker_id: str, now: datetime
) -> list[ClaimedJob]:
    """Claimed rows as jobs, in claim order (selector rank, then priority, then id)."""
    jobs = [ClaimedJob.from_row(r, backend_alias=backend_alias, worker_id=worker_id, started_at=now) for r in rows]
    if len(selectors) > 1:
        jobs.sort(key=lambda j: (queue_selectors.rank(selectors, j.queue_name), -j.priority, j.id))
    else:
        jobs.sort(key=lambda j: (-j.priority, j.id))
    return jobs
