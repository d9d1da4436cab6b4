"""Concurrency semaphores as operators see them: free slots, limits, and the jobs blocked on each key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SemaphoreRow:
    """One concurrency key in use.

    ``holders`` is ``limit - free`` (the slots taken, by the semaphore's own
    accounting); ``blocked`` counts the jobs of every backend on the
    database waiting for a slot of this key.
    """

    key: str
    free: int
    limit: int
    holders: int
    blocked: int
    expires_at: datetime


def list_semaphores(backend_alias: str, *, key: str | None = None, limit: int = 1000) -> list[SemaphoreRow]:
    """The semaphores on ``backend_alias``'s database, by key (at most ``limit``; only ``key`` if given).

    Blocked-job counts come from one grouped query over the blocked jobs'
    index, for the keys listed.
    """
    raise NotImplementedError
