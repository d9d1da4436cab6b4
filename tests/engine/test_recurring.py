"""Recurring tasks: new tasks start at their next slot, and each slot fires exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections
from django.tasks import task_backends
from django.utils import timezone

from djq.config import RecurringTaskConfig
from djq.engine import recurring
from djq.models import RecurringExecution, RecurringTask

HOURLY = RecurringTaskConfig(key="hourly", task_path="tests.tasks.add", schedule="0 * * * *", args=(1, 2),
                             queue_name="cron", priority=3)


@pytest.fixture
def sync(alias):
    """``sync(now, *configs)``: what a scheduler does at start; returns the alias's rows by key."""

    def run(now: datetime, *configs: RecurringTaskConfig) -> dict[str, RecurringTask]:
        recurring.sync_static(alias, alias, configs, now=now)
        return {row.key: row for row in RecurringTask.objects.using(alias).filter(backend_alias=alias)}

    return run


def test_new_task_starts_at_its_next_slot(alias, sync):
    now = datetime(2026, 3, 1, 10, 0, 30, tzinfo=UTC)  # just after the 10:00 slot
    row = sync(now, HOURLY)["hourly"]
    assert row.next_run_at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert row.static and row.payload == {"args": [1, 2], "kwargs": {}}
    assert recurring.due_tasks(alias, alias, now, dynamic=False) == []
    assert recurring.fire_due(task_backends[alias], now, dynamic=False) == 0


def test_sync_keeps_the_cursor_and_drops_removed_tasks(alias, sync):
    now = datetime(2026, 3, 1, 10, 0, 30, tzinfo=UTC)
    sync(now, HOURLY, RecurringTaskConfig(key="gone", task_path="tests.tasks.add", schedule="@daily"))
    rows = sync(now + timedelta(hours=5), HOURLY)
    assert list(rows) == ["hourly"]
    assert rows["hourly"].next_run_at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)  # not moved past missed slots


def test_a_changed_schedule_starts_after_now(alias, sync):
    now = datetime(2026, 3, 1, 10, 0, 30, tzinfo=UTC)
    sync(now, HOURLY)
    later = now + timedelta(hours=3)
    daily = RecurringTaskConfig(key="hourly", task_path="tests.tasks.add", schedule="0 3 * * *")
    assert sync(later, daily)["hourly"].next_run_at == datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def test_a_slot_fires_once_for_two_schedulers(alias, sync, jobs):
    now = timezone.now()
    sync(now - timedelta(hours=1), HOURLY)
    backend = task_backends[alias]
    # Both schedulers read the due row before either fires it.
    mine = recurring.due_tasks(alias, alias, now, dynamic=False)
    theirs = recurring.due_tasks(alias, alias, now, dynamic=False)
    assert [r.key for r in mine] == [r.key for r in theirs] == ["hourly"]
    job_id = recurring.fire(backend, mine[0], now)
    assert job_id is not None
    assert recurring.fire(backend, theirs[0], now) is None
    [job] = jobs()
    assert (job.id, job.recurring_key, job.task_path, job.queue_name, job.priority) == (
        job_id, "hourly", "tests.tasks.add", "cron", 3)
    assert job.payload == {"args": [1, 2], "kwargs": {}}
    [execution] = RecurringExecution.objects.using(alias).all()
    assert execution.job_id == job_id
    row = RecurringTask.objects.using(alias).get(key="hourly")
    assert row.next_run_at > now and row.last_run_at == execution.run_at


@pytest.mark.vendors("postgresql", "mysql")
def test_a_slot_fires_once_for_concurrent_schedulers(alias, sync, jobs):
    now = timezone.now()
    sync(now - timedelta(hours=1), HOURLY)
    barrier = threading.Barrier(4)
    fired, failures = [], []

    def scheduler() -> None:
        try:
            backend = task_backends[alias]
            [row] = recurring.due_tasks(alias, alias, now, dynamic=False)
            barrier.wait()
            fired.append(recurring.fire(backend, row, now))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections[alias].close()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    assert len([f for f in fired if f is not None]) == 1
    assert jobs().count() == 1 and RecurringExecution.objects.using(alias).count() == 1


def test_missed_slots_fire_once_after_downtime(alias, sync, jobs):
    now = timezone.now()
    row = sync(now - timedelta(hours=5, minutes=30), HOURLY)["hourly"]
    assert row.next_run_at < now - timedelta(hours=4)
    backend = task_backends[alias]
    assert recurring.fire_due(backend, now, dynamic=False) == 1
    assert recurring.fire_due(backend, now, dynamic=False) == 0
    assert jobs().count() == 1
    row = RecurringTask.objects.using(alias).get(key="hourly")
    latest = now.replace(minute=0, second=0, microsecond=0)
    assert row.last_run_at == latest
    assert row.next_run_at == latest + timedelta(hours=1)
    assert list(RecurringExecution.objects.using(alias).values_list("run_at", flat=True)) == [latest]


def test_a_pruned_execution_does_not_refire_its_slot(alias, sync, jobs):
    now = timezone.now()
    sync(now - timedelta(hours=1), HOURLY)
    backend = task_backends[alias]
    assert recurring.fire_due(backend, now, dynamic=False) == 1
    RecurringExecution.objects.using(alias).all().delete()
    assert recurring.fire_due(backend, now, dynamic=False) == 0
    assert jobs().count() == 1


def test_paused_tasks_do_not_fire(alias, sync, jobs):
    now = timezone.now()
    sync(now - timedelta(hours=1), HOURLY)
    RecurringTask.objects.using(alias).update(paused=True)
    assert recurring.fire_due(task_backends[alias], now, dynamic=False) == 0
    assert jobs().count() == 0
