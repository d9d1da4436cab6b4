"""PostgreSQL: SKIP LOCKED claims, array-driven batch finishes, NOTIFY inside the writing statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..rows import NewJob, Outcome
from .base import INSERT_COLUMNS, NOTIFY_CHANNEL, Dialect

# A notification is queued by the statement that makes jobs ready and is
# delivered when its transaction commits, so enqueue stays one round trip and
# a rolled-back enqueue wakes nobody. PostgreSQL folds duplicate
# notifications within a transaction.
_WAKE = (
    "woke AS (SELECT pg_notify('" + NOTIFY_CHANNEL + "', q) FROM"
    " (SELECT DISTINCT backend_alias || ':' || queue_name AS q FROM {source} WHERE state = 'ready') AS d)"
)


class PostgresDialect(Dialect):
    vendor = "postgresql"
    insert_chunk = 1000

    def lock_clause(self) -> str:
        # SKIP LOCKED lets concurrent claimers pass each other's rows instead
        # of queueing on them; without it they serialise (still correct).
        return " FOR UPDATE SKIP LOCKED" if self.use_skip_locked else " FOR UPDATE"

    def _values_row(self) -> str:
        marks = ["%s"] * len(INSERT_COLUMNS)
        marks[INSERT_COLUMNS.index("payload")] = "%s::jsonb"
        marks[INSERT_COLUMNS.index("attempts")] = "%s::jsonb"
        return "(" + ", ".join(marks) + ")"

    def _insert_chunk(self, jobs: Sequence[NewJob]) -> list[int]:
        params = []
        for job in jobs:
            params.extend(self._insert_params(job))
        values = ", ".join([self._values_row()] * len(jobs))
        insert = (
            f"INSERT INTO djq_job ({', '.join(INSERT_COLUMNS)}) VALUES {values}"
            " RETURNING id, backend_alias, queue_name, state"
        )
        if self.notify_enabled:
            sql = (
                f"WITH ins AS ({insert}), {_WAKE.format(source='ins')}"
                " SELECT id, (SELECT count(*) FROM woke) FROM ins ORDER BY id"
            )
        else:
            sql = f"WITH ins AS ({insert}) SELECT id FROM ins ORDER BY id"
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]

    def notify(self, backend_alias: str, queues: Sequence[str]) -> None:
        if not (self.notify_enabled and queues):
            return
        with self.cursor() as cursor:
            cursor.execute(
                "SELECT pg_notify(%s, q) FROM unnest(%s::text[]) AS q",
                [NOTIFY_CHANNEL, [f"{backend_alias}:{q}" for q in queues]],
            )

    def finish(self, process_id: int, outcomes: Sequence[Outcome]) -> int:
        # One statement for the whole batch, whatever its size: the arrays
        # keep the statement text constant.
        if not outcomes:
            return 0
        dt = self.dt
        sql = (
            "UPDATE djq_job AS j SET state = v.state, finished_at = v.finished_at,"
            " scheduled_at = COALESCE(v.scheduled_at, j.scheduled_at),"
            " started_at = COALESCE(v.started_at, j.started_at), attempts = v.attempts::jsonb,"
            " return_value = v.return_value::jsonb, process_id = NULL, worker_id = NULL"
            " FROM unnest(%s::bigint[], %s::varchar[], %s::timestamptz[], %s::timestamptz[],"
            " %s::timestamptz[], %s::text[], %s::text[])"
            " AS v(id, state, finished_at, scheduled_at, started_at, attempts, return_value)"
            " WHERE j.id = v.id AND j.state = 'claimed' AND j.process_id = %s"
        )
        params = [
            [o.id for o in outcomes],
            [o.state for o in outcomes],
            [dt(o.finished_at) for o in outcomes],
            [dt(o.scheduled_at) for o in outcomes],
            [dt(o.started_at) for o in outcomes],
            [o.attempts for o in outcomes],
            [o.return_value for o in outcomes],
            process_id,
        ]
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def delete_claimed(self, process_id: int, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        with self.cursor() as cursor:
            cursor.execute(
                "DELETE FROM djq_job WHERE id = ANY(%s::bigint[]) AND state = 'claimed' AND process_id = %s",
                [list(ids), process_id],
            )
            return cursor.rowcount

    def promote_due(self, backend_alias: str, now: datetime, limit: int) -> int:
        sql = (
            "WITH due AS (SELECT id FROM djq_job WHERE state = 'scheduled' AND backend_alias = %s"
            f" AND scheduled_at <= %s AND concurrency_key IS NULL ORDER BY scheduled_at LIMIT %s{self.lock_clause()}),"
            " upd AS (UPDATE djq_job SET state = 'ready' WHERE id IN (SELECT id FROM due)"
            " RETURNING backend_alias, queue_name, state)"
        )
        if self.notify_enabled:
            sql += f", {_WAKE.format(source='upd')} SELECT count(*), (SELECT count(*) FROM woke) FROM upd"
        else:
            sql += " SELECT count(*) FROM upd"
        with self.cursor() as cursor:
            cursor.execute(sql, [backend_alias, self.dt(now), limit])
            return cursor.fetchone()[0]
