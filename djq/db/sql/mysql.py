"""MySQL 8 and MariaDB 10.6+: SKIP LOCKED claims inside a short transaction.

Neither server has UPDATE ... RETURNING, so a claim is lock, update and
read back, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..rows import ClaimedJob
from .base import PAUSED, Dialect, normalise_selectors, selector_clause, sort_claimed


class MySQLDialect(Dialect):
    vendor = "mysql"

    def __init__(self, database: str, **kwargs) -> None:
        super().__init__(database, **kwargs)
        # MariaDB 10.5+ returns ids from a multi-row INSERT; MySQL does not.
        self.can_return_inserted = self.connection.features.can_return_rows_from_bulk_insert

    def lock_clause(self) -> str:
        return " FOR UPDATE SKIP LOCKED" if self.use_skip_locked else " FOR UPDATE"

    def acquire_slot(self, key: str, limit: int, duration: float, now: datetime) -> bool:
        # Make sure the semaphore row exists first. Enqueuers racing a plain
        # INSERT of a new key wait on it with shared locks, then deadlock
        # with each other taking FOR UPDATE; waiters on an upsert take an
        # exclusive lock and simply queue.
        with self.cursor() as cursor:
            cursor.execute(
                "INSERT INTO djq_semaphore (concurrency_key, value, slot_limit, expires_at, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE concurrency_key = concurrency_key",
                [key, limit, limit, self.dt(now), self.dt(now), self.dt(now)],
            )
        return super().acquire_slot(key, limit, duration, now)

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
        selectors = normalise_selectors(selectors)
        lock = self.lock_clause()
        with self.write_transaction(), self.cursor() as cursor:
            ids: list[int] = []
            for selector in selectors:
                if len(ids) >= limit:
                    break
                clause, extra = selector_clause(selector)
                cursor.execute(
                    f"SELECT id FROM djq_job WHERE state = 'ready' AND backend_alias = %s{clause}"
                    f" AND {PAUSED} ORDER BY priority DESC, id LIMIT %s{lock}",
                    [backend_alias, *extra, backend_alias, limit - len(ids)],
                )
                ids.extend(row[0] for row in cursor.fetchall() if row[0] not in ids)
            if not ids:
                return []
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(
                "UPDATE djq_job SET state = 'claimed', process_id = %s, worker_id = %s, started_at = %s"
                f" WHERE id IN ({marks})",
                [process_id, worker_id, self.dt(now), *ids],
            )
            cursor.execute(f"SELECT {self.returning} FROM djq_job WHERE id IN ({marks})", ids)
            return sort_claimed(selectors, cursor.fetchall(), backend_alias=backend_alias, worker_id=worker_id,
                                now=now)

    def throughput_upsert(self) -> str:
        sums = ", ".join(f"{c} = {c} + VALUES({c})" for c in ("finished", "failed", "run_seconds", "runs",
                                                                "pickup_seconds", "pickups"))
        return f"ON DUPLICATE KEY UPDATE {sums}"
