"""Tasks with operator features (concurrency limits, retries) for the end-to-end tests."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.tasks import task

from djq.api import concurrency, retry
from tests.tasks import mark_started


def _line(path: str, event: str, token: str) -> None:
    with open(path, "a") as fh:
        fh.write(f"{event} {token} {os.getpid()} {time.time():.6f}\n")


@concurrency("pair:{key}", limit=2, duration=60)
@task
def limited_record(path: str, token: str, key: str = "k", seconds: float = 0.05) -> str:
    _line(path, "start", token)
    time.sleep(seconds)
    _line(path, "end", token)
    return token



@task
@concurrency("only:{key}", limit=1, on_conflict="discard")
def singleton(key: str = "k") -> str:
    return key


@concurrency("gate:{key}", limit=1, duration=60)
@task
def limited_block(release: str, marker: str, key: str = "k", timeout: float = 30.0) -> str:
    mark_started(marker)
    deadline = time.monotonic() + timeout
    while not os.path.exists(release):
        if time.monotonic() > deadline:
            raise TimeoutError(release)
        time.sleep(0.01)
    return "released"


@retry(max_attempts=3, backoff_base=0.5, backoff_factor=2.0, jitter=0.0)
@task
def fails_twice(path: str) -> int:
    """Fails on its first two attempts, succeeds on the third."""
    with open(path, "a") as fh:
        fh.write(f"{time.time():.6f}\n")
    attempts = len(Path(path).read_text().splitlines())
    if attempts < 3:
        raise ConnectionError(f"attempt {attempts} failed")
    return attempts
