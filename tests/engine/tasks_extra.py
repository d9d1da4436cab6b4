"""Tasks with djq options, for the engine tests.

Retry policies use ``jitter=0`` so that due times are exact. Concurrency
policies are mostly given per test (the ``concurrency`` fixture); the
``@task(concurrency_key=...)`` ones go through ``djq.backend.DjqTask``.
"""

from __future__ import annotations

from django.tasks import task

from djq.config import RetryPolicy

#: Three runs in all, 10 s then 20 s apart.
RETRY = RetryPolicy(max_attempts=3, backoff_base=10, backoff_factor=2, jitter=0)


@task
def keyed(account_id: int, n: int = 0) -> int:
    """A task for concurrency policies set by the test."""
    return n


def plain(account_id: int) -> int:
    """Not a task yet: tests decorate it to see what ``@task`` rejects."""
    return account_id


@task(concurrency_key="account:{account_id}", concurrency_limit=1)
def one_per_account(account_id: int) -> int:
    return account_id


@task
def always_fails(message: str = "boom"):
    raise ValueError(message)


always_fails.func.__djq_retry__ = RETRY


@task(retry={"max_attempts": 3, "backoff_base": 10, "jitter": 0})
def fails_with_retry_field(message: str = "boom"):
    raise ValueError(message)


@task
def fails_unlisted():
    raise KeyError("not retried")


fails_unlisted.func.__djq_retry__ = RetryPolicy(max_attempts=5, backoff_base=1, jitter=0,
                                                retry_on=("builtins.ValueError",))


@task(takes_context=True, retry={"max_attempts": 3, "backoff_base": 1, "jitter": 0})
def flaky_with_context(context, succeed_on: int):
    if context.attempt < succeed_on:
        raise RuntimeError(f"attempt {context.attempt}")
    return {"attempt": context.attempt, "id": context.task_result.id}


# -- values a database cannot store (issue 10 item 4) ---------------------------------


@task
def returns_nul() -> str:
    return "before\x00after"


@task
def returns_surrogate() -> str:
    return "lone \ud800 surrogate"


@task
def returns_text(size: int) -> str:
    return "x" * size


@task
def raises_nul() -> None:
    raise ValueError("bad\x00byte \ud800 and a newline\nforged log line")


@task
def raises_huge(size: int) -> None:
    raise ValueError("m" * size)


@task
def retries_on_missing() -> None:
    raise ValueError("never runs")


retries_on_missing.func.__djq_retry__ = RetryPolicy(max_attempts=2, retry_on=("nowhere.NoSuchError",))


@task
def retries_on_a_module() -> None:
    raise ValueError("never runs")


retries_on_a_module.func.__djq_retry__ = RetryPolicy(max_attempts=2, retry_on=("os.path",))
