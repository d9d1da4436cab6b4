"""Retention: pruning old finished and failed jobs and old recurring executions, in bounded batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from djq.engine.retention import prune
from djq.models import RecurringExecution
from tests import tasks
from tests.engine import tasks_extra
from tests.engine.conftest import djq_entry

DAY = 86400


@pytest.fixture
def finished_jobs(alias, backend, worker, jobs):
    """``finished_jobs(n, age=seconds, fail=False)``: jobs run to the end, ``age`` seconds ago."""

    def make(n: int, *, age: float, fail: bool = False) -> list[int]:
        task = (tasks.fail if fail else tasks.add).using(backend=alias)
        results = backend.enqueue_all([(task, (i, i) if not fail else (), {}) for i in range(n)])
        ids = [int(r.id) for r in results]
        while worker.run(500):
            pass
        jobs(id__in=ids).update(finished_at=timezone.now() - timedelta(seconds=age))
        return ids

    return make


@pytest.fixture
def executions(alias):
    """``executions(n, age=seconds)``: fired recurring slots, recorded ``age`` seconds ago."""

    def make(n: int, *, age: float, backend_alias: str | None = None) -> None:
        created = timezone.now() - timedelta(seconds=age)
        RecurringExecution.objects.using(alias).bulk_create(
            RecurringExecution(backend_alias=backend_alias or alias, task_key="nightly",
                               run_at=created - timedelta(hours=i), created_at=created)
            for i in range(n)
        )

    return make


def test_prunes_only_old_finished_and_failed_jobs(alias, finished_jobs, jobs, worker):
    old_ok = finished_jobs(3, age=2 * DAY)
    new_ok = finished_jobs(2, age=60)
    old_failed = finished_jobs(2, age=2 * DAY, fail=True)
    new_failed = finished_jobs(1, age=60, fail=True)
    claimed = tasks.add.using(backend=alias).enqueue(1, 1)
    worker.claim(1)
    ready = tasks.add.using(backend=alias).enqueue(2, 2)
    result = prune(alias, backend_alias=alias, finished_older_than=DAY, failed_older_than=DAY)
    assert (result.finished, result.failed, result.more_remaining, result.dry_run) == (3, 2, False, False)
    left = set(jobs().values_list("id", flat=True))
    assert left == {*new_ok, *new_failed, int(ready.id), int(claimed.id)}
    assert not left & {*old_ok, *old_failed}


def test_an_age_of_none_keeps_that_kind(alias, finished_jobs, jobs):
    finished_jobs(2, age=2 * DAY)
    old_failed = finished_jobs(2, age=2 * DAY, fail=True)
    result = prune(alias, backend_alias=alias, finished_older_than=DAY)
    assert (result.finished, result.failed) == (2, 0)
    assert set(jobs().values_list("id", flat=True)) == set(old_failed)


def test_discarded_jobs_count_as_finished(alias, concurrency, jobs):
    concurrency(tasks_extra.keyed, key="k", limit=1, on_conflict="discard")
    task = tasks_extra.keyed.using(backend=alias)
    kept, dropped = task.enqueue(1), task.enqueue(1)
    jobs(id=dropped.id).update(finished_at=timezone.now() - timedelta(days=2))
    assert prune(alias, backend_alias=alias, finished_older_than=DAY).finished == 1
    assert list(jobs().values_list("id", flat=True)) == [int(kept.id)]


def test_prunes_old_recurring_executions(alias, executions):
    executions(4, age=2 * DAY)
    executions(1, age=60)
    result = prune(alias, backend_alias=alias, recurring_older_than=DAY)
    assert result.recurring_executions == 4
    assert RecurringExecution.objects.using(alias).count() == 1


def test_each_call_is_bounded(alias, finished_jobs, executions, jobs):
    finished_jobs(5, age=2 * DAY)
    finished_jobs(4, age=2 * DAY, fail=True)
    executions(3, age=2 * DAY)
    bounds = {"batch_size": 2, "max_batches": 3}
    ages = {"finished_older_than": DAY, "failed_older_than": DAY, "recurring_older_than": DAY}
    first = prune(alias, backend_alias=alias, **ages, **bounds)
    # Batches of 2, 2 and 1 finished jobs use up the budget; failed ones wait.
    assert (first.finished, first.failed, first.batches, first.more_remaining) == (5, 0, 3, True)
    second = prune(alias, backend_alias=alias, **ages, **bounds)
    assert (second.failed, second.recurring_executions, second.more_remaining) == (4, 2, True)
    third = prune(alias, backend_alias=alias, **ages, **bounds)
    assert third.total == 1 and not third.more_remaining
    assert jobs().count() == 0 and RecurringExecution.objects.using(alias).count() == 0


@pytest.mark.parametrize("bounds", [{"batch_size": 2, "max_batches": 3}, {"batch_size": 100, "max_batches": 5}])
def test_dry_run_reports_what_a_real_run_deletes(alias, finished_jobs, executions, jobs, bounds):
    finished_jobs(5, age=2 * DAY)
    finished_jobs(4, age=2 * DAY, fail=True)
    executions(3, age=2 * DAY)
    ages = {"finished_older_than": DAY, "failed_older_than": DAY, "recurring_older_than": DAY}
    dry = prune(alias, backend_alias=alias, dry_run=True, **ages, **bounds)
    assert dry.dry_run
    assert jobs().count() == 9 and RecurringExecution.objects.using(alias).count() == 3
    real = prune(alias, backend_alias=alias, **ages, **bounds)
    assert (dry.finished, dry.failed, dry.recurring_executions, dry.more_remaining, dry.batches) == (
        real.finished, real.failed, real.recurring_executions, real.more_remaining, real.batches)


def test_prune_is_scoped_to_the_alias(alias, finished_jobs, executions, jobs, tasks_setting):
    finished_jobs(2, age=2 * DAY)
    executions(2, age=2 * DAY, backend_alias="other")
    with tasks_setting(other=djq_entry(alias)):
        result = prune(alias, backend_alias="other", finished_older_than=DAY, recurring_older_than=DAY)
    assert (result.finished, result.recurring_executions) == (0, 2)
    assert jobs().count() == 2
