"""Tasks only the runtime tests enqueue (the shared ones are in ``tests/tasks.py``)."""

from __future__ import annotations

from django.db import connections
from django.tasks import task

from djq.config import RetryPolicy


@task
def query(database: str) -> int:
    """Touch the database from the task thread, as most real tasks do."""
    with connections[database].cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0]


@task
def returns_text(text: str = "", repeat: int = 1, nul: bool = False) -> str:
    """Return ``text`` repeated (with a NUL in it when ``nul``): values some databases cannot store."""
    return text * repeat + ("\x00" if nul else "")


@task
def raises_text(text: str) -> None:
    raise ValueError(text.replace("<NUL>", "\x00"))


class OverflowingPolicy(RetryPolicy):
    """A valid policy whose backoff cannot be turned into a due time (as ``backoff_base=1e12`` once did,
    before validation bounded it): the failure comes after the task's own code."""

    def delay(self, attempts: int) -> float:
        return 1e300


@task
def fails_with_overflowing_retry() -> None:
    raise RuntimeError("the task itself failed")


fails_with_overflowing_retry.func.__djq_retry__ = OverflowingPolicy(max_attempts=3)
