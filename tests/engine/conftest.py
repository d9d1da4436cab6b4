"""Factories for the engine tests: a stand-in worker that makes the same calls the runtime makes.

``EngineWorker`` registers a process row, claims through the vendor dialect,
runs jobs with ``djq.engine.execution.execute`` and writes outcomes back the way
``djq.runtime.worker.Worker._write`` does (finish and slot release in one
transaction), all in the test's thread, so a test controls every step.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.tasks import task_backends
from django.test import override_settings
from django.utils import timezone

from djq.concurrency import ATTRIBUTE, ConcurrencyPolicy
from djq.db.rows import ClaimedJob
from djq.engine import processes
from djq.engine.execution import Attempt, execute
from djq.engine.finish import write_outcomes
from djq.engine.handle import handle
from djq.models import Job, Pause


class EngineWorker:
    """One registered worker process of ``alias``, driven step by step by a test."""

    def __init__(self, alias: str, name: str = "engine-worker") -> None:
        self.alias = alias
        self.name = name
        self.worker_id = f"{name}.{os.getpid()}@{socket.gethostname()}"
        self.process_id = processes.register(
            self.database, backend_alias=alias, kind="worker", name=name,
            hostname=socket.gethostname(), pid=os.getpid(),
        )

    @property
    def backend(self):
        return task_backends[self.alias]

    @property
    def database(self) -> str:
        return task_backends[self.alias].database

    @property
    def dialect(self):
        return task_backends[self.alias].dialect

    def claim(self, limit: int = 100, selectors: Sequence[str] = ("*",), now: datetime | None = None
              ) -> list[ClaimedJob]:
        return self.dialect.claim(
            self.alias, list(selectors), limit,
            process_id=self.process_id, worker_id=self.worker_id, now=now or timezone.now(),
        )

    def finish(self, attempts: Sequence[Attempt]) -> int:
        """Write attempts back through the engine's one finish, as the runtime's worker does."""
        return write_outcomes(handle(self.alias), self.process_id, [a.outcome for a in attempts])

    def run(self, limit: int = 100, selectors: Sequence[str] = ("*",)) -> list[Attempt]:
        """Claim up to ``limit`` jobs, execute them in order and record their outcomes."""
        attempts = [execute(job) for job in self.claim(limit, selectors)]
        if attempts:
            self.finish(attempts)
        return attempts


@pytest.fixture
def make_worker(alias) -> Callable[..., EngineWorker]:
    """Register a worker process row for ``alias``: ``make_worker(name="w2")``."""

    def make(name: str = "engine-worker", on: str | None = None) -> EngineWorker:
        return EngineWorker(on or alias, name)

    return make


@pytest.fixture
def worker(make_worker) -> EngineWorker:
    return make_worker()


@pytest.fixture
def run_claimed(alias) -> Callable[..., list[Attempt]]:
    """``run_claimed(alias, n)``: claim up to n jobs with a registered worker, run and finish them."""
    workers: dict[str, EngineWorker] = {}

    def run(on: str = alias, n: int = 100, selectors: Sequence[str] = ("*",)) -> list[Attempt]:
        if on not in workers:
            workers[on] = EngineWorker(on)
        return workers[on].run(n, selectors)

    return run


@pytest.fixture
def jobs(alias):
    """The job rows of the alias's database: ``jobs()`` is a queryset, ``jobs(pk)`` one row."""

    def get(pk: int | str | None = None, **filters):
        qs = Job.objects.using(task_backends[alias].database)
        if pk is not None:
            return qs.get(pk=int(pk))
        return qs.filter(**filters)

    return get


@pytest.fixture
def pause(alias) -> Callable[..., None]:
    """Pause a queue by inserting its pause row (``backend_alias`` defaults to the test's alias)."""

    def make(queue_name: str, backend_alias: str | None = None) -> None:
        Pause.objects.using(task_backends[alias].database).create(
            backend_alias=backend_alias or alias, queue_name=queue_name, created_at=timezone.now()
        )

    return make


@pytest.fixture
def concurrency(monkeypatch) -> Callable[..., None]:
    """Give a task a concurrency policy for one test: ``concurrency(task, key=..., limit=...)``."""

    def declare(task, **policy) -> None:
        monkeypatch.setattr(task.func, ATTRIBUTE, ConcurrencyPolicy(**policy), raising=False)

    return declare


@pytest.fixture
def tasks_setting(alias) -> Callable[..., Iterator[None]]:
    """Override ``TASKS``: change the alias's entry and add others; djq's and Django's caches follow."""

    @contextmanager
    def override(entry: dict | None = None, **others: dict) -> Iterator[None]:
        tasks = {**settings.TASKS, **others}
        if entry is not None:
            tasks[alias] = entry
        with override_settings(TASKS=tasks):
            yield

    return override


def djq_entry(alias: str, **params) -> dict:
    """A copy of ``settings.TASKS[alias]`` with some top-level keys replaced."""
    entry = {**settings.TASKS[alias], **params}
    entry["OPTIONS"] = dict(entry["OPTIONS"])
    return entry


def close_enough(a: datetime | None, b: datetime | None, seconds: float = 1.0) -> bool:
    return a is not None and b is not None and abs((a - b).total_seconds()) <= seconds


def later(seconds: float) -> datetime:
    return timezone.now() + timedelta(seconds=seconds)
