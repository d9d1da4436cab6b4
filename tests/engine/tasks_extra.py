"""Extra tasks for the engine tests: concurrency and retry policies, declared at module level."""

from __future__ import annotations

from django.tasks import task

from djq.concurrency import ATTRIBUTE, ConcurrencyPolicy
from djq.config import RetryPolicy


@task
def limited(account_id: int, n: int = 0) -> int:
    return n


setattr(limited.func, ATTRIBUTE, ConcurrencyPolicy(key="account:{account_id}", limit=2))
