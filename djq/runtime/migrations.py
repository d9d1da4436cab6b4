"""Refuse to run on a stale schema: wait for djq's migrations, or fail saying what to run."""

from __future__ import annotations

import time

from ..db.schema import pending_migrations
from ..exceptions import MigrationsPending


def wait_for_migrations(database: str, timeout: float, *, on_wait=None, stopped=lambda: False) -> bool:
    """Return once djq's migrations are applied (True) or a stop was asked for meanwhile (False).

    Raises ``MigrationsPending`` when ``timeout`` runs out. The stop flag is
    looked at ten times a second, so that SIGINT or SIGTERM during the wait
    stops at once instead of when the wait gives up.
    """
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        pending = pending_migrations(database)
        if not pending:
            return True
        if time.monotonic() >= deadline:
            raise MigrationsPending(
                f"djq migrations not applied on database {database!r} ({', '.join(pending)}); run `djq migrate`"
            )
        if on_wait is not None and not announced:
            on_wait(pending)
            announced = True
        next_look = time.monotonic() + min(1.0, max(0.05, deadline - time.monotonic()))
        while time.monotonic() < next_look:
            if stopped():
                return False
            time.sleep(min(0.1, max(0.0, next_look - time.monotonic())))
