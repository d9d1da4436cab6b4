"""Running claimed jobs: what a finished or failed job keeps, and the return-value contract."""

from __future__ import annotations

import pytest
from django.tasks.base import TaskResultStatus
from django.utils import timezone

from djq.engine.execution import execute
from djq.exceptions import ResultSerializationError
from tests import tasks
from tests.engine.conftest import close_enough


def test_non_json_return_value_fails_the_job(alias, backend, run_claimed, jobs):
    result = tasks.bad_return.using(backend=alias).enqueue()
    [attempt] = run_claimed(alias, 10)
    assert attempt.terminal and attempt.outcome.state == "failed"
    assert jobs(state="claimed").count() == 0
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.FAILED
    [error] = fetched.errors
    assert error.exception_class is ResultSerializationError
    assert "not JSON" in error.traceback
    with pytest.raises(ValueError, match="Task failed"):
        _ = fetched.return_value


def test_successful_job_keeps_its_history(alias, backend, worker, jobs):
    result = tasks.add.using(backend=alias).enqueue(2, 40)
    [attempt] = worker.run()
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.SUCCESSFUL
    assert fetched.return_value == 42
    assert fetched.worker_ids == [worker.worker_id]
    assert fetched.attempts == 1
    assert fetched.errors == []
    assert fetched.started_at is not None and fetched.finished_at is not None
    assert result.enqueued_at <= fetched.started_at <= fetched.finished_at
    assert close_enough(fetched.last_attempted_at, fetched.started_at, 0.001)
    assert fetched.started_at == attempt.result.started_at
    row = jobs(result.id)
    assert (row.state, row.process_id, row.worker_id) == ("finished", None, None)


def test_failed_job_keeps_its_history_and_error(alias, backend, worker):
    result = tasks.fail.using(backend=alias).enqueue("kaput")
    [attempt] = worker.run()
    assert attempt.terminal
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.FAILED
    assert fetched.worker_ids == [worker.worker_id]
    assert fetched.attempts == 1
    assert fetched.started_at <= fetched.finished_at
    assert close_enough(fetched.last_attempted_at, fetched.started_at, 0.001)
    [error] = fetched.errors
    assert error.exception_class_path == "builtins.ValueError"
    assert error.exception_class is ValueError
    assert "kaput" in error.traceback and "Traceback" in error.traceback
    assert "tests/tasks.py" in error.traceback


def test_running_job_reports_running(alias, backend, worker):
    result = tasks.add.using(backend=alias).enqueue(1, 1)
    assert len(worker.claim()) == 1
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.RUNNING
    assert fetched.worker_ids == [worker.worker_id]
    assert fetched.started_at is not None and fetched.finished_at is None


def test_unimportable_task_fails_instead_of_staying_claimed(alias, backend, worker, jobs):
    result = tasks.add.using(backend=alias).enqueue(1, 1)
    jobs(id=result.id).update(task_path="tests.tasks.no_such_task")
    [attempt] = worker.run()
    assert attempt.outcome.state == "failed" and attempt.result is None
    row = jobs(result.id)
    assert row.state == "failed"
    assert row.attempts[0]["error"]["exception_class_path"] == "djq.exceptions.DjqError"


def test_finish_only_changes_jobs_this_process_holds(alias, make_worker, jobs):
    tasks.add.using(backend=alias).enqueue(1, 1)
    first, second = make_worker("first"), make_worker("second")
    [job] = first.claim()
    attempt = execute(job)
    assert second.finish([attempt]) == 0
    assert jobs(job.id).state == "claimed"
    assert first.finish([attempt]) == 1
    assert jobs(job.id).state == "finished"


def test_finish_and_claim_in_one_round(alias, backend, worker, jobs):
    results = backend.enqueue_all([(tasks.add.using(backend=alias, priority=p), (p, p), {}) for p in (1, 2, 3, 4, 5)])
    first = worker.claim(2)
    attempts = [execute(job) for job in first]
    changed, claimed = worker.dialect.finish_and_claim(
        worker.process_id, [a.outcome for a in attempts], alias, ["*"], 2,
        worker_id=worker.worker_id, now=timezone.now(),
    )
    assert changed == 2
    assert [str(j.id) for j in first] == [results[4].id, results[3].id]
    assert [str(j.id) for j in claimed] == [results[2].id, results[1].id]
    assert [jobs(r.id).state for r in results] == ["ready", "claimed", "claimed", "finished", "finished"]
    assert backend.get_result(results[4].id).return_value == 10


def test_finish_and_claim_with_nothing_left_to_claim(alias, backend, worker, jobs):
    result = tasks.add.using(backend=alias).enqueue(1, 1)
    attempts = [execute(job) for job in worker.claim()]
    changed, claimed = worker.dialect.finish_and_claim(
        worker.process_id, [a.outcome for a in attempts], alias, ["*"], 5,
        worker_id=worker.worker_id, now=timezone.now(),
    )
    assert (changed, claimed) == (1, [])
    assert jobs(result.id).state == "finished"


def test_finish_and_claim_only_finishes_what_this_process_holds(alias, backend, make_worker, jobs):
    tasks.add.using(backend=alias).enqueue(1, 1)
    owner, stranger = make_worker("owner"), make_worker("stranger")
    attempts = [execute(job) for job in owner.claim()]
    tasks.add.using(backend=alias).enqueue(2, 2)
    changed, claimed = stranger.dialect.finish_and_claim(
        stranger.process_id, [a.outcome for a in attempts], alias, ["*"], 5,
        worker_id=stranger.worker_id, now=timezone.now(),
    )
    assert changed == 0 and len(claimed) == 1
    assert jobs(attempts[0].outcome.id).state == "claimed"
