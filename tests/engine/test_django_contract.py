"""Django's documented contract for backends (issue 9, items 9 and 10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.tasks.exceptions import InvalidTask
from django.utils import timezone

from djq.api import retry_failed_job
from djq.exceptions import EnqueueError
from djq.models import Job
from tests import tasks
from tests.engine.conftest import djq_entry


def test_item_9_arguments_that_do_not_serialise_raise_type_error(alias):
    with pytest.raises(TypeError) as caught:
        tasks.echo.using(backend=alias).enqueue(datetime(2026, 1, 1, tzinfo=UTC))
    assert isinstance(caught.value, EnqueueError)
    assert str(caught.value) == "arguments must round-trip through JSON: args[0]: datetime is not JSON-serialisable"
    assert not Job.objects.using(alias).exists()


def test_item_9_an_invalid_task_raises_invalid_task(alias, tasks_setting):
    with tasks_setting(djq_entry(alias, QUEUES=["default", "emails"])):
        with pytest.raises(InvalidTask) as queue:
            tasks.add.using(backend=alias, queue_name="reports")
        with pytest.raises(InvalidTask) as priority:
            tasks.add.using(backend=alias, priority=500)
    assert isinstance(queue.value, EnqueueError) and isinstance(priority.value, EnqueueError)
    assert "queue 'reports' is not in" in str(queue.value)


def test_item_10_get_result_keeps_a_run_after_already_past_at_enqueue(alias, backend):
    past = timezone.now() - timedelta(minutes=5)

    result = tasks.add.using(backend=alias, run_after=past).enqueue(1, 2)

    assert backend.get_result(result.id).task.run_after == past
    assert backend.get_result(tasks.add.using(backend=alias).enqueue(1, 2).id).task.run_after is None


def test_item_10_a_retried_job_reports_what_the_caller_asked_for(alias, backend, worker):
    asked = timezone.now() - timedelta(seconds=1)
    result = tasks.fail.using(backend=alias, run_after=asked).enqueue("x")
    worker.run()
    retry_failed_job(result.id, at=timezone.now() + timedelta(hours=1), backend_alias=alias)

    again = backend.get_result(result.id)

    assert again.task.run_after == asked
    row = Job.objects.using(alias).get(id=result.id)
    assert row.state == "scheduled" and row.scheduled_at > asked + timedelta(minutes=30)


def test_item_11_enqueue_on_commit_returns_the_pending_job_and_its_result_after_commit(alias, backend):
    from django.db import transaction

    from djq.api import PendingEnqueue, enqueue_on_commit

    add = tasks.add.using(backend=alias)
    with transaction.atomic(using=alias):
        pending = enqueue_on_commit(add, 1, 2)
        assert isinstance(pending, PendingEnqueue)
        assert (pending.enqueued, pending.result, pending.id) == (False, None, None)
    assert pending.enqueued and backend.get_result(pending.id).args == [1, 2]

    with pytest.raises(RuntimeError), transaction.atomic(using=alias):
        dropped = enqueue_on_commit(add, 3, 4)
        raise RuntimeError("roll back")
    assert not dropped.enqueued

    with pytest.raises(TypeError):  # checked at the call, not at commit time
        enqueue_on_commit(tasks.echo.using(backend=alias), {1, 2})
    assert Job.objects.using(alias).count() == 1
