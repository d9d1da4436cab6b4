"""LISTEN/NOTIFY wake-ups on PostgreSQL: a thread with its own connection that pokes the worker.

Polling stays the correctness path; this only shortens the wait. When the
listening connection drops, the thread reconnects with backoff and the
worker polls at its normal interval meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import connections

from ..db.sql.base import NOTIFY_CHANNEL

logger = logging.getLogger("djq.runtime")


class Listener(threading.Thread):
    def __init__(self, database: str, on_payload: Callable[[str], None], *, name: str) -> None:
        super().__init__(name=f"{name}-listen", daemon=True)
        self.database = database
        self.on_payload = on_payload
        self.stopping = threading.Event()
        self.connected = threading.Event()
        self._conn = None

    def _connect(self):
        import psycopg

        params = dict(connections[self.database].get_connection_params())
        for key in ("cursor_factory", "context", "prepare_threshold"):
            params.pop(key, None)
        conn = psycopg.connect(**params, autocommit=True)
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return conn

    def run(self) -> None:
        from .procline import name_thread

        name_thread(self.name.removesuffix("-listen"))
        backoff, failed = 0.5, False
        while not self.stopping.is_set():
            try:
                self._conn = self._connect()
                self.connected.set()
                if failed:
                    logger.warning("LISTEN connection restored")
                failed, backoff = False, 0.5
                # A wake-up right after (re)connecting covers what was sent meanwhile.
                self.on_payload("")
                while not self.stopping.is_set():
                    for note in self._conn.notifies(timeout=1.0):
                        self.on_payload(note.payload)
            except Exception as exc:
                self.connected.clear()
                if not self.stopping.is_set():
                    if not failed:
                        logger.warning("LISTEN connection lost (%s); polling until it is back", exc)
                    failed = True
                    self.stopping.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
            finally:
                self._close()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def stop(self) -> None:
        self.stopping.set()
