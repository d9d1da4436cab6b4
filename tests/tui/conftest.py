"""Helpers for the dashboard tests: real data in every state, the app headless, and waiting for refreshes.

Data comes from djq's own paths: jobs enqueued through Django's task API,
run by the same claim/execute/finish a worker uses (``tests.cli.conftest.work``),
a claimed job held by a registered process, a blocked one behind a real
concurrency limit, a paused queue and a recurring task synced the way the
scheduler does it. Every job has unique arguments (its label), so two runs
of ``seed`` can be compared job by job.
"""

from __future__ import annotations

import asyncio
import copy
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


@dataclass
class Seeded:
    ids: dict[str, list[int]] = field(default_factory=dict)  # state -> job ids, oldest first
    process_id: int | None = None

    def count(self, state: str) -> int:
        return len(self.ids.get(state, ()))


def seed(alias: str) -> Seeded:
    from django.utils import timezone

    from djq.config import RecurringTaskConfig
    from djq.db.sql import dialect_for
    from djq.engine.processes import register
    from djq.engine.recurring import sync_static
    from djq.ops.queues import pause
    from tests import tasks
    from tests.cli.conftest import work
    from tests.engine import tasks_extra

    out = Seeded()
    finished = [int(tasks.add.using(backend=alias).enqueue(i, 1000).id) for i in range(4)]
    failed = [int(tasks.fail.using(backend=alias, queue_name=q).enqueue(f"boom {i}").id)
              for i, q in enumerate(("default", "default", "default", "emails"))]
    work(alias)
    out.ids["finished"], out.ids["failed"] = finished, failed

    busy = int(tasks.add.using(backend=alias, queue_name="busy").enqueue(9, 9).id)
    out.process_id = register(alias, backend_alias=alias, kind="worker", name="worker-7", hostname="test-host",
                              pid=os.getpid(), metadata={"queues": ["busy"], "threads": 2})
    dialect_for(alias).claim(alias, ["busy"], 10, process_id=out.process_id, worker_id=f"worker-7.{os.getpid()}@test",
                             now=timezone.now())
    out.ids["claimed"] = [busy]

    ready = [int(tasks.add.using(backend=alias).enqueue(i, 2000).id) for i in range(3)]
    ready += [int(tasks.add.using(backend=alias, queue_name="emails").enqueue(i, 3000).id) for i in range(2)]
    later = timezone.now() + timedelta(hours=1)
    out.ids["scheduled"] = [int(tasks.add.using(backend=alias, run_after=later).enqueue(i, 4000).id)
                            for i in range(2)]
    holder = int(tasks_extra.one_per_account.using(backend=alias).enqueue(7).id)
    waiting = int(tasks_extra.one_per_account.using(backend=alias).enqueue(7).id)
    out.ids["ready"] = [*ready, holder]
    out.ids["blocked"] = [waiting]
    pause(alias, "emails")
    sync_static(alias, alias, [RecurringTaskConfig(key="nightly", task_path="tests.tasks.add", schedule="0 3 * * *",
                                                   args=(1, 2), description="adds")])
    return out


def dynamic_recurring(alias: str, key: str = "hourly-ping") -> None:
    """A dynamic recurring task (scheduled at run time) for the unschedule action."""
    from django.conf import settings
    from django.test import override_settings

    from djq.ops.recurring import schedule

    tasks_setting = copy.deepcopy(settings.TASKS)
    tasks_setting[alias]["OPTIONS"]["scheduler"] = {"dynamic_tasks_enabled": True}
    with override_settings(TASKS=tasks_setting):
        schedule(alias, key, "tests.tasks.add", "@hourly", args=[5, 6])


def job_states(alias: str) -> list[tuple]:
    """Every job as (task, args, kwargs, state, queue, attempts): comparable across two seeds."""
    from djq.models import Job

    rows = Job.objects.using(alias).filter(backend_alias=alias).values_list(
        "task_path", "payload", "state", "queue_name", "attempts")
    return sorted((t, repr(p.get("args")), repr(p.get("kwargs")), s, q, len(a or [])) for t, p, s, q, a in rows)


def labels(alias: str) -> dict[int, tuple]:
    from djq.models import Job

    return {i: (t, repr(p)) for i, t, p in
            Job.objects.using(alias).filter(backend_alias=alias).values_list("id", "task_path", "payload")}


def clean(alias: str) -> None:
    from django.db import connections

    from tests.conftest import DJQ_TABLES

    with connections[alias].cursor() as cursor:
        for table in DJQ_TABLES:
            cursor.execute(f"DELETE FROM {table}")


# -- the app headless ---------------------------------------------------------------------


def make_app(alias: str, **kwargs):
    from djq_cli.tui.app import DjqApp
    from djq_cli.tui.data import OpsSource

    kwargs.setdefault("interval", 30.0)  # tests refresh on purpose; the timer stays out of the way
    return DjqApp(OpsSource(alias), where="tests", **kwargs)


async def settled(app, pilot, *, timeout: float = 20.0, check: Callable[[], bool] | None = None) -> None:
    """Wait until the current screen shows fresh data (and ``check`` holds)."""
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        ready = app._inflight is None and getattr(screen, "rendered", True)
        if ready and (check is None or check()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the dashboard did not settle on {screen!r} within {timeout}s")
        await asyncio.sleep(0.05)


async def refreshed(app, pilot, **kwargs) -> None:
    """Ask for a refresh now and wait for it."""
    await settled(app, pilot)
    before = app.refreshes
    app.refresh_now()
    await settled(app, pilot, check=lambda: app.refreshes > before, **kwargs)


def text_of(widget) -> str:
    """What a Static shows, as plain text."""
    import io

    from rich.console import Console

    console = Console(width=max(widget.size.width, 40), file=io.StringIO(), record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


def run(coro) -> None:
    asyncio.run(coro)


@pytest.fixture
def seeded(alias) -> Seeded:
    return seed(alias)
