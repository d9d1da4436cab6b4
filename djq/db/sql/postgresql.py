"""PostgreSQL: SKIP LOCKED claims, array-driven batch finishes, NOTIFY inside the writing statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..rows import ClaimedJob, NewJob, Outcome
from .base import INSERT_COLUMNS, NOTIFY_CHANNEL, Dialect, normalise_selectors, sort_claimed

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
    stores_nul = False
    insert_chunk = 5000

    def cursor(self):
        # Server-side binding for djq's own statements, whatever the project
        # chose for Django's cursors: parameters travel in binary instead of
        # being quoted into the text in Python, and the hot statements (whose
        # text never varies) are prepared once per connection instead of
        # planned on every call.
        from django.db.backends.postgresql.base import ServerBindingCursor

        connection = self.connection
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        with connection.wrap_database_errors:
            return connection._prepare_cursor(ServerBindingCursor(connection.connection))

    def lock_clause(self) -> str:
        # SKIP LOCKED lets concurrent claimers pass each other's rows instead
        # of queueing on them; without it they serialise (still correct).
        return " FOR UPDATE SKIP LOCKED" if self.use_skip_locked else " FOR UPDATE"

    def _values_row(self) -> str:
        marks = ["%s"] * len(INSERT_COLUMNS)
        marks[INSERT_COLUMNS.index("payload")] = "%s::jsonb"
        marks[INSERT_COLUMNS.index("attempts")] = "%s::jsonb"
        return "(" + ", ".join(marks) + ")"

    # Array types of INSERT_COLUMNS, for the many-row insert through unnest().
    _ARRAY_TYPES = (
        "text[]", "text[]", "text[]", "smallint[]", "text[]", "text[]", "timestamptz[]", "timestamptz[]",
        "text[]", "text[]", "integer[]", "float8[]", "text[]", "timestamptz[]", "text[]", "timestamptz[]",
    )

    def _insert_chunk(self, jobs: Sequence[NewJob]) -> list[int]:
        if len(jobs) == 1:
            params = self._insert_params(jobs[0])
            source = f"VALUES {self._values_row()}"
        else:
            # One parameter per column, whatever the batch size: a statement
            # with thousands of placeholders costs more to build than to run.
            rows = [self._insert_params(job) for job in jobs]
            params = [list(column) for column in zip(*rows, strict=True)]
            arrays = ", ".join(f"%s::{t}" for t in self._ARRAY_TYPES)
            columns = [f"u.{c}::jsonb" if c in ("payload", "attempts") else f"u.{c}" for c in INSERT_COLUMNS]
            source = f"SELECT {', '.join(columns)} FROM unnest({arrays}) AS u({', '.join(INSERT_COLUMNS)})"
        insert = (
            f"INSERT INTO djq_job ({', '.join(INSERT_COLUMNS)}) {source}"
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

    def _finish_sql(self, process_id: int, outcomes: Sequence[Outcome]) -> tuple[str, list]:
        # One statement for the whole batch, whatever its size: the arrays
        # keep the statement text constant.
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
        return sql, params

    def finish(self, process_id: int, outcomes: Sequence[Outcome]) -> int:
        if not outcomes:
            return 0
        sql, params = self._finish_sql(process_id, outcomes)
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

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
        # Both in one statement and one commit: under load a worker's round
        # trips, not the server's work, bound its throughput.
        if not outcomes:
            return super().finish_and_claim(process_id, outcomes, backend_alias, selectors, limit,
                                            worker_id=worker_id, now=now)
        selectors = normalise_selectors(selectors)
        finish, params = self._finish_sql(process_id, outcomes)
        head, picked_params = self._picked_sql(backend_alias, selectors, limit)
        sql = (
            f"WITH fin AS ({finish} RETURNING j.id), {head[len('WITH '):]},"
            " cl AS (UPDATE djq_job SET state = 'claimed', process_id = %s, worker_id = %s, started_at = %s"
            f" WHERE id IN (SELECT id FROM picked) RETURNING {self.returning})"
            " SELECT (SELECT count(*) FROM fin), cl.* FROM (SELECT 1) AS one LEFT JOIN cl ON true"
        )
        params += [*picked_params, process_id, worker_id, self.dt(now)]
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return rows[0][0], sort_claimed(selectors, [r[1:] for r in rows if r[1] is not None])

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
        return self.promote_due_and_check(backend_alias, now, limit)[0]

    def promote_due_and_check(self, backend_alias: str, now: datetime, limit: int) -> tuple[int, bool]:
        # The same statement answers whether limited jobs are due too, so an
        # idle dispatcher sends one statement per poll, not four.
        sql = (
            "WITH due AS (SELECT id FROM djq_job WHERE state = 'scheduled' AND backend_alias = %s"
            f" AND scheduled_at <= %s AND concurrency_key IS NULL ORDER BY scheduled_at LIMIT %s{self.lock_clause()}),"
            " upd AS (UPDATE djq_job SET state = 'ready' WHERE id IN (SELECT id FROM due)"
            " RETURNING backend_alias, queue_name, state)"
        )
        limited = (
            "EXISTS (SELECT 1 FROM djq_job WHERE state = 'scheduled' AND backend_alias = %s"
            " AND scheduled_at <= %s AND concurrency_key IS NOT NULL)"
        )
        if self.notify_enabled:
            sql += f", {_WAKE.format(source='upd')} SELECT count(*), {limited}, (SELECT count(*) FROM woke) FROM upd"
        else:
            sql += f" SELECT count(*), {limited} FROM upd"
        with self.cursor() as cursor:
            cursor.execute(sql, [backend_alias, self.dt(now), limit, backend_alias, self.dt(now)])
            count, limited_due = cursor.fetchone()[:2]
            return count, bool(limited_due)
