"""The chaos workload's tasks. Each appends ``start`` and ``end`` lines to the journal.

A line is ``<event> <job id> <pid> <unix time> <key>``: the job id comes from the
task's context, so recurring firings (whose arguments never change) are told
apart too; ``key`` is the concurrency key of limited jobs, else ``-``. Lines are
short single ``write`` calls on an ``O_APPEND`` file, so concurrent writers never
interleave within a line.
"""

from __future__ import annotations

import os
import time

from django.tasks import task

from djq.api import concurrency, retry


def _journal(path: str, event: str, job_id: str, key: str = "-") -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{event} {job_id} {os.getpid()} {time.time():.6f} {key}\n".encode())
    finally:
        os.close(fd)


def _run(context, path: str, seconds: float, key: str = "-") -> str:
    job_id = str(context.task_result.id)
    _journal(path, "start", job_id, key)
    if seconds:
        time.sleep(seconds)
    _journal(path, "end", job_id, key)
    return job_id


@task(takes_context=True)
def plain(context, path: str, seconds: float = 0.0) -> str:
    return _run(context, path, seconds)


@concurrency("chaos:{key}", limit=1, duration=60)
@task(takes_context=True)
def limited_one(context, path: str, key: str, seconds: float = 0.0) -> str:
    return _run(context, path, seconds, f"{key}/1")


@concurrency("chaos2:{key}", limit=2, duration=60)
@task(takes_context=True)
def limited_two(context, path: str, key: str, seconds: float = 0.0) -> str:
    return _run(context, path, seconds, f"{key}/2")


@retry(max_attempts=4, backoff_base=0.2, backoff_factor=1.5, backoff_cap=1, jitter=0)
@task(takes_context=True)
def flaky(context, path: str, failures: int, seconds: float = 0.0) -> str:
    """Fails its first ``failures`` attempts (after a complete run each), then succeeds."""
    job_id = _run(context, path, seconds)
    if context.attempt <= failures:
        raise RuntimeError(f"planned failure {context.attempt} of {failures}")
    return job_id
