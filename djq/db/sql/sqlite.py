"""SQLite: one writer at a time, so claims need no row locks, only an immediate write lock."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import transaction

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
        # waiting for the busy timeout. The transaction is Django's own
        # (atomic), so nested atomic blocks and write_transaction calls
        # inside it become savepoints instead of a second BEGIN.
        connection = self.connection
        if connection.in_atomic_block:
            yield
            return
        connection.ensure_connection()
        mode = connection.transaction_mode
        connection.transaction_mode = "IMMEDIATE"
        try:
            with transaction.atomic(using=self.database, savepoint=False):
                connection.transaction_mode = mode
                yield
        finally:
            connection.transaction_mode = mode

    def claim(self, backend_alias: str, selectors: Sequence[str], limit: int, **kwargs) -> list[ClaimedJob]:
        with self.write_transaction():
            return super().claim(backend_alias, selectors, limit, **kwargs)
