"""Jobs with ``run_after``: kept out of the ready set until the dispatcher promotes them."""

from __future__ import annotations

from datetime import timedelta

from django.tasks.base import TaskResultStatus
from django.utils import timezone

from tests import tasks
from tests.engine.conftest import djq_entry, later


def test_future_run_after_is_scheduled(alias, backend, worker, jobs):
    when = later(3600)
    result = tasks.add.using(backend=alias, run_after=when).enqueue(1, 2)
    assert result.status == TaskResultStatus.READY
    assert backend.get_result(result.id).status == TaskResultStatus.READY
    row = jobs(result.id)
    assert row.state == "scheduled" and row.scheduled_at == when
    assert worker.claim(10) == []


def test_past_run_after_is_ready_at_once(alias, worker, jobs):
    result = tasks.add.using(backend=alias, run_after=timezone.now() - timedelta(seconds=5)).enqueue(1, 2)
    assert jobs(result.id).state == "ready"
    assert [job.id for job in worker.claim(10)] == [int(result.id)]


def test_promote_makes_only_due_jobs_ready(alias, backend, worker, jobs):
    now = timezone.now()
    due = tasks.add.using(backend=alias, run_after=now + timedelta(minutes=1)).enqueue(1, 1)
    early = tasks.add.using(backend=alias, run_after=now + timedelta(minutes=10)).enqueue(2, 2)
    dialect = backend.dialect
    assert dialect.promote_due(alias, now, 100) == 0
    assert dialect.promote_due(alias, now + timedelta(minutes=2), 100) == 1
    assert (jobs(due.id).state, jobs(early.id).state) == ("ready", "scheduled")
    assert [job.id for job in worker.claim(10)] == [int(due.id)]
    assert dialect.promote_due(alias, now + timedelta(minutes=2), 100) == 0


def test_promote_is_scoped_to_the_alias(alias, backend, jobs, tasks_setting):
    when = later(60)
    with tasks_setting(other=djq_entry(alias)):
        theirs = tasks.add.using(backend="other", run_after=when).enqueue(1, 1)
        assert backend.dialect.promote_due(alias, when + timedelta(seconds=1), 100) == 0
        assert jobs(theirs.id).state == "scheduled"


def test_promote_works_in_batches(alias, backend, jobs):
    when = later(3600)
    backend.enqueue_all([(tasks.add.using(backend=alias, run_after=when), (i, i), {}) for i in range(1200)])
    assert jobs(state="scheduled").count() == 1200
    due = when + timedelta(seconds=1)
    calls = []
    while promoted := backend.dialect.promote_due(alias, due, 500):
        calls.append(promoted)
    assert calls == [500, 500, 200]
    assert jobs(state="ready").count() == 1200


def test_promote_takes_the_earliest_first(alias, backend, jobs):
    base = later(3600)
    late = tasks.add.using(backend=alias, run_after=base + timedelta(seconds=30)).enqueue(1, 1)
    early = tasks.add.using(backend=alias, run_after=base).enqueue(2, 2)
    assert backend.dialect.promote_due(alias, base + timedelta(minutes=1), 1) == 1
    assert (jobs(early.id).state, jobs(late.id).state) == ("ready", "scheduled")
