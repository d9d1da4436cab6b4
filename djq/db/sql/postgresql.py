"""PostgreSQL: SKIP LOCKED claims, array-driven batch finishes, NOTIFY inside the writing statement."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime

from ..rows import ClaimedJob, NewJob, Outcome
from .base import (
    INSERT_COLUMNS,
    NOTIFY_CHANNEL,
    THROUGHPUT_KEY,
    THROUGHPUT_SUMS,
    Dialect,
    normalise_selectors,
    sort_claimed,
    throughput_shard,
)

# A notification is queued by the statement that makes jobs ready and is
# delivered when its transaction commits, so enqueue stays one round trip and
# a rolled-back enqueue wakes nobody. PostgreSQL folds duplicate
# notifications within a transaction.
_WAKE = (
    "woke AS (SELECT pg_notify('" + NOTIFY_CHANNEL + "', q) FROM"
    " (SELECT DISTINCT backend_alias || ':' || queue_name AS q FROM {source} WHERE state = 'ready') AS d)"
)


_dumps = json.JSONEncoder(separators=(",", ":")).encode


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


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
        "timestamptz[]",
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

    #: From this many jobs on, enqueue writes by COPY (ids drawn first in one round trip).
    copy_threshold = 200

    def insert_jobs(self, jobs: Sequence[NewJob]) -> list[int]:
        if len(jobs) < self.copy_threshold:
            return super().insert_jobs(jobs)
        return self._copy_jobs(jobs)

    def _copy_jobs(self, jobs: Sequence[NewJob]) -> list[int]:
        """Many jobs by COPY: one round trip draws their ids, COPY streams the rows, all in one transaction.

        COPY returns nothing, so the ids come first from the table's own
        sequence (the identity column's default would have drawn the same
        kind of ids), and the NOTIFY for the queues made ready goes out in
        the same transaction, so it is delivered only if the rows commit.
        """
        n = len(jobs)
        columns = ("id", *INSERT_COLUMNS)
        copy_sql = f"COPY djq_job ({', '.join(columns)}) FROM STDIN"
        ready = sorted({f"{j.backend_alias}:{j.queue_name}" for j in jobs if j.state == "ready"})
        # The wake-up rides on the statement that draws the ids: a
        # notification is delivered at commit, so only if the rows commit.
        wake = (", (SELECT count(*) FROM (SELECT pg_notify(%s, q) FROM unnest(%s::text[]) AS q) AS w)"
                if self.notify_enabled and ready else "")
        params: list = [n, NOTIFY_CHANNEL, ready] if wake else [n]
        connection = self.connection
        with self.write_transaction(), self.cursor() as cursor:
            cursor.execute(
                "SELECT ARRAY(SELECT nextval(pg_get_serial_sequence('djq_job', 'id')) FROM generate_series(1, %s))"
                + wake, params,
            )
            ids = sorted(cursor.fetchone()[0])
            started = time.monotonic()
            with connection.wrap_database_errors, cursor.cursor.copy(copy_sql) as copy:
                write = copy.write_row
                for job_id, job in zip(ids, jobs, strict=True):
                    write((
                        job_id, job.backend_alias, job.queue_name, job.task_path, job.priority, job.state,
                        job.payload, job.enqueued_at, job.scheduled_at, "[]", job.concurrency_key,
                        job.concurrency_limit, job.concurrency_duration, job.concurrency_on_conflict,
                        job.blocked_until, job.recurring_key, job.finished_at, job.run_after,
                    ))
            if connection.queries_logged:  # Django's query log does not see COPY by itself
                connection.queries_log.append({"sql": f"{copy_sql} -- {n} rows",
                                               "time": f"{time.monotonic() - started:.3f}"})
        return ids

    def notify(self, backend_alias: str, queues: Sequence[str]) -> None:
        if not (self.notify_enabled and queues):
            return
        with self.cursor() as cursor:
            cursor.execute(
                "SELECT pg_notify(%s, q) FROM unnest(%s::text[]) AS q",
                [NOTIFY_CHANNEL, [f"{backend_alias}:{q}" for q in queues]],
            )

    def _finish_ctes(self, process_id: int, outcomes: Sequence[Outcome]) -> tuple[str, list]:
        """``fin`` writes the outcomes (rows this process still holds); ``roll`` adds them to the rollup.

        One statement for the whole batch, whatever its size, with the batch
        as one JSON parameter: its text is constant (prepared once), and one
        ``json.dumps`` is far cheaper for the driver than a dozen typed
        arrays. The rollup upsert reads what ``fin`` actually changed and
        inserts its rows in key order, so that concurrent finishes lock
        rollup rows in one order.
        """
        sums = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in THROUGHPUT_SUMS)
        sql = (
            "fin AS (UPDATE djq_job AS j SET state = v.state, finished_at = v.finished_at,"
            " scheduled_at = COALESCE(v.scheduled_at, j.scheduled_at),"
            " started_at = COALESCE(v.started_at, j.started_at), attempts = v.attempts::jsonb,"
            " return_value = v.return_value::jsonb, process_id = NULL, worker_id = NULL,"
            " error_class = COALESCE(v.error_class, j.error_class),"
            " error_message = COALESCE(v.error_message, j.error_message)"
            " FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, state varchar, finished_at timestamptz,"
            " scheduled_at timestamptz, started_at timestamptz, attempts text, return_value text, error_class text,"
            " error_message text, ended_at timestamptz, run_seconds float8, pickup_seconds float8)"
            " WHERE j.id = v.id AND j.state = 'claimed' AND j.process_id = %s"
            " RETURNING j.id, j.backend_alias, j.queue_name, j.task_path, v.state, v.ended_at, v.run_seconds,"
            " v.pickup_seconds),"
            f" roll AS (INSERT INTO djq_throughput AS t ({', '.join(THROUGHPUT_KEY)}, {', '.join(THROUGHPUT_SUMS)})"
            " SELECT backend_alias, date_trunc('minute', ended_at), queue_name, task_path, %s,"
            " count(*) FILTER (WHERE state = 'finished'), count(*) FILTER (WHERE state = 'failed'),"
            " COALESCE(sum(run_seconds), 0), count(run_seconds), COALESCE(sum(pickup_seconds), 0),"
            " count(pickup_seconds)"
            " FROM fin WHERE ended_at IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
            f" ON CONFLICT ({', '.join(THROUGHPUT_KEY)}) DO UPDATE SET {sums})"
        )
        records = [
            {"id": o.id, "state": o.state, "finished_at": _iso(o.finished_at), "scheduled_at": _iso(o.scheduled_at),
             "started_at": _iso(o.started_at), "attempts": o.attempts, "return_value": o.return_value,
             "error_class": o.error_class, "error_message": o.error_message, "ended_at": _iso(o.ended_at),
             "run_seconds": o.run_seconds, "pickup_seconds": o.pickup_seconds}
            for o in outcomes
        ]
        return sql, [_dumps(records), process_id, throughput_shard(process_id)]

    def finish(self, process_id: int, outcomes: Sequence[Outcome]) -> int:
        if not outcomes:
            return 0
        ctes, params = self._finish_ctes(process_id, outcomes)
        with self.cursor() as cursor:
            cursor.execute(f"WITH {ctes} SELECT count(*) FROM fin", params)
            return cursor.fetchone()[0]

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
        finish, params = self._finish_ctes(process_id, outcomes)
        head, picked_params = self._picked_sql(backend_alias, selectors, limit)
        sql = (
            f"WITH {finish}, {head[len('WITH '):]},"
            " cl AS (UPDATE djq_job SET state = 'claimed', process_id = %s, worker_id = %s, started_at = %s"
            f" WHERE id IN (SELECT id FROM picked) RETURNING {self.returning})"
            " SELECT (SELECT count(*) FROM fin), cl.* FROM (SELECT 1) AS one LEFT JOIN cl ON true"
        )
        params += [*picked_params, process_id, worker_id, self.dt(now)]
        with self.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return rows[0][0], sort_claimed(selectors, [r[1:] for r in rows if r[1] is not None],
                                        backend_alias=backend_alias, worker_id=worker_id, now=now)

    def held_ids(self, process_id: int, ids: Sequence[int]) -> list[int]:
        with self.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM djq_job WHERE id = ANY(%s::bigint[]) AND state = 'claimed' AND process_id = %s"
                " FOR UPDATE",
                [list(ids), process_id],
            )
            return [row[0] for row in cursor.fetchall()]

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
