"""`djq start` runs what is enqueued: outcomes, results, run_after, priorities and queue selectors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.tasks.base import TaskResultStatus
from django.utils import timezone

from tests import tasks
from tests.runtime.harness import last_error_class, read_records, states, wait_for_states

pytestmark = pytest.mark.e2e


def test_runs_jobs_and_keeps_their_results(alias, backend, start_runtime):
    runtime = start_runtime()
    ok = tasks.add.using(backend=alias).enqueue(2, 3)
    bad = tasks.fail.using(backend=alias).enqueue("no luck")
    coro = tasks.async_add.using(backend=alias).enqueue(4, 5)
    run_after = timezone.now() + timedelta(seconds=1.5)
    later = tasks.echo.using(backend=alias, run_after=run_after).enqueue("later", n=1)
    assert backend.get_result(later.id).status == TaskResultStatus.READY

    ids = [ok.id, bad.id, coro.id, later.id]
    wait_for_states(alias, ids, runtime=runtime)

    done = backend.get_result(ok.id)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == 5
    assert done.errors == []
    assert backend.get_result(coro.id).return_value == 9

    failed = backend.get_result(bad.id)
    assert failed.status == TaskResultStatus.FAILED
    assert last_error_class(failed) == "builtins.ValueError"
    assert "no luck" in failed.errors[-1].traceback

    deferred = backend.get_result(later.id)
    assert deferred.status == TaskResultStatus.SUCCESSFUL
    assert deferred.return_value == {"args": ["later"], "kwargs": {"n": 1}}
    assert deferred.started_at >= run_after

    # Finished jobs keep their history.
    for result in (done, failed, deferred):
        assert result.started_at is not None and result.finished_at >= result.started_at
        assert result.last_attempted_at is not None
        assert len(result.worker_ids) == result.attempts == 1
        assert result.worker_ids[0].startswith("worker-1.")
    assert runtime.stop() == 0


def test_priority_and_queue_selectors(alias, backend, start_runtime, tmp_path):
    """One thread, jobs waiting before start: selector order first, then priority, never an unserved queue."""
    path = str(tmp_path / "order.txt")

    def enqueue(queue, priority, token):
        return tasks.record.using(backend=alias, queue_name=queue, priority=priority).enqueue(path, token)

    outsider = enqueue("other", 100, "other")
    ids = [
        enqueue("low-1", 10, "low-10").id,
        enqueue("high", -5, "high-minus5").id,
        enqueue("high", 5, "high-5").id,
        enqueue("low-2", 0, "low-0").id,
    ]
    options = {"workers": [{"queues": ["high", "low*"], "threads": 1, "polling_interval": 0.05}]}
    runtime = start_runtime(options=options)
    wait_for_states(alias, ids, ("finished",), runtime=runtime)

    started = [r.token for r in read_records(path) if r.event == "start"]
    assert started == ["high-5", "high-minus5", "low-10", "low-0"]
    # The worker claimed four times and passed the priority-100 job each time.
    assert states(alias, [outsider.id]) == {int(outsider.id): "ready"}
    assert runtime.stop() == 0
    assert backend.get_result(outsider.id).status == TaskResultStatus.READY
