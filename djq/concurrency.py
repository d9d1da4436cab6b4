"""Concurrency limits: which jobs share a key, and how many may run at once."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.tasks.base import Task

from .exceptions import EnqueueError
from .states import BLOCKED, DISCARDED

ON_CONFLICT = ("block", "discard")
ATTRIBUTE = "__djq_concurrency__"


@dataclass(frozen=True, slots=True)
class ConcurrencyPolicy:
    """At most ``limit`` jobs with the same key run at once.

    ``key`` is a format string over the call's arguments (``"account:{account_id}"``)
    or a callable taking the same arguments. ``duration`` (seconds) bounds how
    long a slot stays taken if its holder dies. ``on_conflict`` says what
    happens to a job that finds no free slot: ``block`` waits, ``discard`` drops it.
    """

    key: str | Callable[..., str]
    limit: int | None = None
    duration: float | None = None
    on_conflict: str = "block"

    def check(self) -> None:
        if self.limit is None:
            raise EnqueueError("a concurrency key needs a limit: pass limit=N")
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise EnqueueError(f"concurrency limit must be a positive integer, got {self.limit!r}")
        if self.duration is not None and (
            isinstance(self.duration, bool) or not isinstance(self.duration, (int, float)) or self.duration <= 0
        ):
            raise EnqueueError(f"concurrency duration must be a positive number of seconds, got {self.duration!r}")
        if self.on_conflict not in ON_CONFLICT:
            raise EnqueueError(f"on_conflict must be 'block' or 'discard', got {self.on_conflict!r}")


def without_slot(on_conflict: str | None, now: datetime, duration: float) -> dict[str, Any]:
    """The fields of a job that found its key's slots all taken: dropped, or waiting for one."""
    if on_conflict == "discard":
        return {"state": DISCARDED, "finished_at": now}
    return {"state": BLOCKED, "blocked_until": now + timedelta(seconds=duration)}


def policy_for(task: Task) -> ConcurrencyPolicy | None:
    """The task's policy: from the backend's task class (``@task(concurrency_key=...)``) or the decorator."""
    key = getattr(task, "concurrency_key", None)
    if key is not None:
        return ConcurrencyPolicy(
            key=key,
            limit=getattr(task, "concurrency_limit", None),
            duration=getattr(task, "concurrency_duration", None),
            on_conflict=getattr(task, "on_conflict", "block"),
        )
    return getattr(task.func, ATTRIBUTE, None)


def resolve_key(policy: ConcurrencyPolicy, task: Task, args: Any, kwargs: Any) -> str:
    """The concurrency key of one call; every way it can go wrong is an EnqueueError."""
    try:
        if callable(policy.key):
            key = policy.key(*args, **kwargs)
        else:
            bound = _signature(task).bind(*args, **kwargs)
            bound.apply_defaults()
            key = policy.key.format(**bound.arguments)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise EnqueueError(f"cannot resolve concurrency key {policy.key!r} from the call's arguments: {exc}") from exc
    if not isinstance(key, str) or not key or len(key) > 255:
        raise EnqueueError(f"a concurrency key must be a non-empty string of at most 255 characters, got {key!r}")
    return key


def _signature(task: Task) -> inspect.Signature:
    sig = inspect.signature(task.func)
    if task.takes_context:
        params = list(sig.parameters.values())[1:]
        sig = sig.replace(parameters=params)
    return sig
