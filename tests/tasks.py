"""Tasks the test suite enqueues. Tests pick the backend with ``task.using(backend=alias)``."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.tasks import task


def mark_started(marker: str) -> None:
    """Create ``marker`` holding our pid, atomically: a reader never sees it empty."""
    partial = f"{marker}.{os.getpid()}.tmp"
    Path(partial).write_text(str(os.getpid()))
    os.replace(partial, marker)


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


@task
def fail(message: str = "boom"):
    raise ValueError(message)


@task
def bad_return():
    return {1, 2}


@task(takes_context=True)
def with_context(context, value):
    return {"attempt": context.attempt, "id": context.task_result.id, "value": value}


@task
async def async_add(a: int, b: int) -> int:
    return a + b


@task
def record(path: str, token: str, seconds: float = 0.0) -> str:
    """Append "start token pid" and "end token pid" lines around an optional sleep."""
    with open(path, "a") as fh:
        fh.write(f"start {token} {os.getpid()} {time.time():.6f}\n")
    if seconds:
        time.sleep(seconds)
    with open(path, "a") as fh:
        fh.write(f"end {token} {os.getpid()} {time.time():.6f}\n")
    return token


@task
def block_until(path: str, marker: str, timeout: float = 30.0) -> str:
    """Signal that the job started (creates ``marker``), then wait until ``path`` exists."""
    mark_started(marker)
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(path)
        time.sleep(0.01)
    return "released"
