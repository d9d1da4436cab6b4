"""Automatic retries: failed attempts come back as scheduled jobs until the policy gives up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.tasks.base import TaskResultStatus

from djq.engine import processes, slots
from djq.engine.execution import execute
from djq.engine.handle import handle
from djq.exceptions import ProcessExitError
from tests import tasks
from tests.engine import tasks_extra
from tests.engine.conftest import close_enough


@pytest.fixture(params=["attribute", "task-field"])
def retried(request, alias):
    """A task failing with ValueError under max_attempts=3, backoff 10 s then 20 s, no jitter."""
    task = tasks_extra.always_fails if request.param == "attribute" else tasks_extra.fails_with_retry_field
    return task.using(backend=alias)


def promote_retry(backend, jobs, job_id) -> None:
    row = jobs(job_id)
    assert backend.dialect.promote_due(backend.alias, row.scheduled_at, 10) == 1


def test_failed_attempts_are_retried_with_backoff(alias, backend, retried, worker, jobs):
    result = retried.enqueue("flaky")
    for attempt, delay in ((1, 10), (2, 20)):
        [done] = worker.run()
        assert not done.terminal
        row = jobs(result.id)
        assert row.state == "scheduled"
        assert row.finished_at is None and row.process_id is None
        assert close_enough(row.scheduled_at, done.outcome.started_at + timedelta(seconds=delay), 1)
        assert len(row.attempts) == attempt
        fetched = backend.get_result(result.id)
        assert fetched.status == TaskResultStatus.READY
        assert fetched.attempts == attempt and len(fetched.errors) == attempt
        assert worker.claim() == []  # not before it is due
        promote_retry(backend, jobs, result.id)
    [done] = worker.run()
    assert done.terminal and done.result.status == TaskResultStatus.FAILED
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.FAILED
    assert fetched.attempts == 3
    assert fetched.worker_ids == [worker.worker_id] * 3
    assert [e.exception_class_path for e in fetched.errors] == ["builtins.ValueError"] * 3
    assert all("flaky" in e.traceback for e in fetched.errors)
    assert fetched.finished_at is not None
    assert close_enough(fetched.last_attempted_at, done.outcome.started_at, 0.001)


def test_exceptions_outside_retry_on_fail_at_once(alias, backend, worker):
    result = tasks_extra.fails_unlisted.using(backend=alias).enqueue()
    [done] = worker.run()
    assert done.terminal
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.FAILED
    assert [e.exception_class_path for e in fetched.errors] == ["builtins.KeyError"]


def test_without_a_policy_a_failure_is_final(alias, backend, worker):
    result = tasks.fail.using(backend=alias).enqueue()
    [done] = worker.run()
    assert done.terminal
    assert backend.get_result(result.id).status == TaskResultStatus.FAILED


def test_a_retried_job_succeeds_later(alias, backend, worker, jobs):
    result = tasks_extra.flaky_with_context.using(backend=alias).enqueue(2)
    worker.run()
    promote_retry(backend, jobs, result.id)
    worker.run()
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.SUCCESSFUL
    assert fetched.attempts == 2 and len(fetched.errors) == 1
    assert fetched.return_value == {"attempt": 2, "id": result.id}


def test_orphan_recovery_counts_as_a_failed_attempt(alias, backend, retried, make_worker, jobs):
    result = retried.enqueue("lost")
    for attempt in (1, 2, 3):
        worker = make_worker(f"doomed-{attempt}")
        [job] = worker.claim()
        failed = processes.fail_claimed_jobs(handle(alias), [worker.process_id], ProcessExitError("killed"))
        assert failed == [job.id]
        row = jobs(result.id)
        assert len(row.attempts) == attempt
        assert row.attempts[-1]["worker_id"] == worker.worker_id
        assert row.attempts[-1]["error"]["exception_class_path"] == "djq.exceptions.ProcessExitError"
        if attempt < 3:
            assert row.state == "scheduled" and row.process_id is None
            promote_retry(backend, jobs, result.id)
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.FAILED
    assert [e.exception_class_path for e in fetched.errors] == ["djq.exceptions.ProcessExitError"] * 3


def test_orphan_recovery_without_a_policy_fails_the_job(alias, backend, worker):
    result = tasks.add.using(backend=alias).enqueue(1, 2)
    worker.claim()
    failed = processes.fail_claimed_jobs(handle(alias), [worker.process_id], ProcessExitError("killed"))
    assert failed == [int(result.id)]
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.FAILED
    assert fetched.worker_ids == [worker.worker_id]
    assert fetched.errors[0].exception_class is ProcessExitError


def test_orphan_recovery_leaves_other_processes_alone(alias, make_worker, jobs):
    tasks.add.using(backend=alias).enqueue(1, 2)
    tasks.add.using(backend=alias).enqueue(3, 4)
    mine, theirs = make_worker("mine"), make_worker("theirs")
    [kept] = mine.claim(1)
    theirs.claim(1)
    processes.fail_claimed_jobs(handle(alias), [theirs.process_id], ProcessExitError("killed"))
    assert jobs(kept.id).state == "claimed"
    assert mine.finish([execute(kept)]) == 1


def test_a_retried_limited_job_gives_its_slot_back_and_queues_again(alias, backend, concurrency, worker, jobs):
    concurrency(tasks_extra.always_fails, key="shared", limit=1)
    concurrency(tasks.add, key="shared", limit=1)
    flaky = tasks_extra.always_fails.using(backend=alias).enqueue()
    waiting = tasks.add.using(backend=alias).enqueue(1, 2)
    [done] = worker.run(1)
    assert not done.terminal
    assert (jobs(flaky.id).state, jobs(waiting.id).state) == ("scheduled", "ready")
    due = jobs(flaky.id).scheduled_at
    assert backend.dialect.promote_due(alias, due, 10) == 0  # limited jobs go through the slot check
    assert slots.dispatch_due_limited(handle(alias), due, 10) == 1
    assert jobs(flaky.id).state == "blocked"  # `waiting` holds the only slot now


def test_orphan_recovery_gives_the_slot_back(alias, concurrency, worker, jobs):
    concurrency(tasks.add, key="shared", limit=1)
    held = tasks.add.using(backend=alias).enqueue(1, 2)
    waiting = tasks.add.using(backend=alias).enqueue(3, 4)
    worker.claim()
    processes.fail_claimed_jobs(handle(alias), [worker.process_id], ProcessExitError("killed"))
    assert (jobs(held.id).state, jobs(waiting.id).state) == ("failed", "ready")
