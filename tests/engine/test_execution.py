"""Running claimed jobs: what a finished or failed job keeps, and the return-value contract."""

from __future__ import annotations

import pytest
from django.tasks.base import TaskResultStatus

from djq.exceptions import ResultSerializationError
from djq.execution import execute
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
