"""Refuse to run on a stale schema: wait for djq's migrations, or fail saying what to run."""

from __future__ import annotations

import time

from ..db.schema import pending_migrations
from ..exceptions import MigrationsPending


def wait_for_migrations(database: str, timeout: float, *, on_wait=None) -> None:
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        pending = pending_migrations(database)
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise MigrationsPending(
                f"djq migrations not applied on database {database!r} ({', '.join(pending)}); run `djq migrate`"
            )
        if on_wait is not None and not announced:
            on_wait(pending)
            announced = True
        time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
