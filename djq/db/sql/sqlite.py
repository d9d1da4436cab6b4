"""SQLite: one writer at a time, so claims need no row locks, only an immediate write lock."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from ..rows import ClaimedJob
from .base import Dialect


class SQLiteDialect(Dialect):
    vendor = "sqlite"
    insert_chunk = 500

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        # BEGIN IMMEDIATE takes the write lock up front. A deferred
        # transaction that reads first and writes later fails with
        # "database is locked" when another writer got in between, without
        # waiting for the busy timeout.
        connection = self.connection
        if connection.in_atomic_block:
            yield
            return
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def claim(self, backend_alias: str, selectors: Sequence[str], limit: int, **kwargs) -> list[ClaimedJob]:
        with self.write_transaction():
            return super().claim(backend_alias, selectors, limit, **kwargs)
