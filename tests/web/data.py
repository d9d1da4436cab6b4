"""Seeded queue data for the web tests, made through djq's own APIs (like tests/cli)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass
class Seeded:
    finished: list[int] = field(default_factory=list)
    failed_email: list[int] = field(default_factory=list)
    failed_reports: list[int] = field(default_factory=list)
    ready_email: list[int] = field(default_factory=list)
    ready_reports: list[int] = field(default_factory=list)
    scheduled: list[int] = field(default_factory=list)
    limited: list[int] = field(default_factory=list)


def dynamic_tasks(alias: str):
    from django.conf import settings
    from django.test import override_settings

    tasks = copy.deepcopy(settings.TASKS)
    tasks[alias]["OPTIONS"]["scheduler"] = {"dynamic_tasks_enabled": True}
    return override_settings(TASKS=tasks)


def seed(alias: str) -> Seeded:
    """3 finished; failed: 2 in email (ValueError "disk full"), 1 in reports ("timeout"); ready: 3 email,
    1 reports; 1 scheduled; 1 limited (holds a semaphore); reports paused; a live worker and dispatcher;
    a static and a dynamic recurring task."""
    from django.utils import timezone

    from djq.config import RecurringTaskConfig
    from djq.ops import queues
    from djq.ops.recurring import schedule

    try:
        from djq.engine.recurring import sync_static
    except ImportError:  # before the engine layer
        from djq.ops.recurring import sync_static
    from tests import operator_tasks, tasks
    from tests.cli.conftest import enqueue, register_process, work

    s = Seeded()
    s.finished = [enqueue(alias, tasks.add, i, i) for i in range(3)]
    s.failed_email = [enqueue(alias, tasks.fail, "disk full", queue="email") for _ in range(2)]
    s.failed_reports = [enqueue(alias, tasks.fail, "timeout while rendering", queue="reports")]
    work(alias)
    s.ready_email = [enqueue(alias, tasks.echo, "hello", n, queue="email", to="ops@example.com") for n in range(3)]
    s.ready_reports = [enqueue(alias, tasks.add, 40, 2, queue="reports")]
    s.scheduled = [int(tasks.add.using(backend=alias, run_after=timezone.now() + timedelta(hours=2))
                       .enqueue(5, 5).id)]
    s.limited = [int(operator_tasks.limited_record.using(backend=alias, queue_name="limited")
                     .enqueue("/dev/null", "t", key="acct-1").id)]
    queues.pause(alias, "reports")
    register_process(alias, "worker", "worker-1")
    register_process(alias, "dispatcher", "dispatcher-1")
    sync_static(alias, alias, [RecurringTaskConfig(key="nightly-report", task_path="tests.tasks.add",
                                                   schedule="0 3 * * *", args=(1, 2),
                                                   description="the nightly report")])
    with dynamic_tasks(alias):
        schedule(backend_alias=alias, key="hourly-sync", task_path="tests.tasks.add", schedule="@hourly", args=[2, 3])
    return s
