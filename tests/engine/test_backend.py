"""DjqBackend against Django's task backend contract, on every vendor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.tasks import task_backends
from django.tasks.base import TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist
from django.tasks.signals import task_enqueued, task_started
from django.utils import timezone

from djq.backend import DjqBackend
from djq.engine.execution import execute
from djq.exceptions import EnqueueError
from tests import tasks
from tests.engine import tasks_extra
from tests.engine.conftest import djq_entry, later


@pytest.fixture
def received():
    """Collect (signal name, sender, task_result) for Django's task signals."""
    seen = []
    receivers = {}
    for name, signal in (("enqueued", task_enqueued), ("started", task_started)):
        def receiver(sender, task_result, _name=name, **kwargs):
            seen.append((_name, sender, task_result))

        receivers[signal] = receiver
        signal.connect(receiver)
    yield seen
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


def test_capability_flags(backend):
    assert isinstance(backend, DjqBackend)
    assert backend.supports_defer
    assert backend.supports_async_task
    assert backend.supports_get_result
    assert backend.supports_priority


def test_enqueue_returns_a_persisted_integer_id(alias, jobs):
    result = tasks.add.using(backend=alias).enqueue(2, 3)
    assert result.status == TaskResultStatus.READY
    assert isinstance(result.id, str) and result.id.isdigit()
    assert result.backend == alias
    row = jobs(result.id)
    assert (row.state, row.task_path, row.backend_alias) == ("ready", "tests.tasks.add", alias)


def test_get_result_round_trip(alias, backend):
    task = tasks.echo.using(backend=alias, priority=7, queue_name="reports")
    result = task.enqueue(1, "two", [3.5, None], flag=True, nested={"a": [1]})
    for fetched in (backend.get_result(result.id), async_to_sync(backend.aget_result)(result.id),
                    task.get_result(result.id)):
        assert fetched.id == result.id
        assert fetched.status == TaskResultStatus.READY
        assert fetched.args == [1, "two", [3.5, None]]
        assert fetched.kwargs == {"flag": True, "nested": {"a": [1]}}
        assert fetched.enqueued_at == result.enqueued_at
        assert fetched.task.func is tasks.echo.func
        assert (fetched.task.priority, fetched.task.queue_name) == (7, "reports")
        assert fetched.task.backend == alias
        assert fetched.task.run_after is None
        assert (fetched.started_at, fetched.finished_at, fetched.errors, fetched.worker_ids) == (None, None, [], [])


def test_get_result_keeps_run_after(alias, backend):
    when = later(3600).replace(microsecond=0)
    result = tasks.add.using(backend=alias, run_after=when).enqueue(1, 1)
    assert backend.get_result(result.id).task.run_after == when


@pytest.mark.parametrize(
    "malformed",
    ["abc", "", "-1", "0", "1.5", str(2**63), str(10**30), " {id}", "{id} ", "+{id}", "0{id}", "{underscored}",
     "{fullwidth}"],
)
def test_get_result_of_a_malformed_id(alias, backend, malformed):
    # Enough jobs for a two-digit id, so that each variant spells a real one.
    result = backend.enqueue_all([(tasks.add.using(backend=alias), (i, i), {}) for i in range(12)])[-1]
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in result.id)
    underscored = f"{result.id[0]}_{result.id[1:]}"
    result_id = malformed.format(id=result.id, fullwidth=fullwidth, underscored=underscored)
    assert backend.get_result(result.id).id == result.id
    with pytest.raises(TaskResultDoesNotExist):
        backend.get_result(result_id)
    with pytest.raises(TaskResultDoesNotExist):
        async_to_sync(backend.aget_result)(result_id)


def test_get_result_of_an_unknown_id(alias, backend):
    result = tasks.add.using(backend=alias).enqueue(1, 1)
    with pytest.raises(TaskResultDoesNotExist):
        backend.get_result(str(int(result.id) + 1000))


def test_get_result_of_another_alias_job(alias, tasks_setting):
    # A second djq alias on the same database: ids are shared, results are not.
    other = djq_entry(alias)
    with tasks_setting(other=other):
        theirs = tasks.add.using(backend="other").enqueue(1, 2)
        ours = tasks.add.using(backend=alias).enqueue(3, 4)
        with pytest.raises(TaskResultDoesNotExist):
            task_backends[alias].get_result(theirs.id)
        with pytest.raises(TaskResultDoesNotExist):
            task_backends["other"].get_result(ours.id)
        assert task_backends["other"].get_result(theirs.id).args == [1, 2]


def test_aenqueue(alias, backend, jobs):
    result = async_to_sync(tasks.add.using(backend=alias).aenqueue)(4, 5)
    assert result.status == TaskResultStatus.READY
    assert backend.get_result(result.id).args == [4, 5]
    assert jobs().count() == 1


def test_enqueue_all_keeps_input_order(alias, backend, jobs):
    soon = later(600)
    calls = []
    for i in range(100):
        if i % 3 == 0:
            calls.append((tasks.add.using(backend=alias), (i, i), {}))
        elif i % 3 == 1:
            calls.append((tasks.echo.using(backend=alias, queue_name=f"q{i % 4}", priority=i % 7),
                          (i,), {"i": i}))
        else:
            calls.append((tasks.add.using(backend=alias, run_after=soon), (i, 0), {}))
    results = backend.enqueue_all(calls)
    assert len(results) == 100
    assert len({r.id for r in results}) == 100
    for (task, args, kwargs), result in zip(calls, results, strict=True):
        assert result.args == list(args) and result.kwargs == kwargs
        assert result.task.func is task.func
        stored = backend.get_result(result.id)
        assert (stored.args, stored.kwargs, stored.task.func) == (list(args), kwargs, task.func)
        assert stored.task.queue_name == task.queue_name and stored.task.priority == task.priority
    assert jobs(state="scheduled").count() == 33
    assert jobs(state="ready").count() == 67


def test_enqueue_all_is_all_or_nothing(alias, backend, jobs):
    calls = [(tasks.add.using(backend=alias), (i, i), {}) for i in range(100)]
    calls[57] = (tasks.echo.using(backend=alias), ({1, 2},), {})
    with pytest.raises(EnqueueError, match=r"args\[0\]"):
        backend.enqueue_all(calls)
    assert jobs().count() == 0


def test_enqueue_all_of_many_chunks_is_all_or_nothing(alias, backend, jobs, concurrency):
    # More rows than one INSERT carries, and a limited job whose key cannot
    # be resolved at the very end: validation happens before any write.
    concurrency(tasks_extra.keyed, key="account:{missing}", limit=1)
    calls = [(tasks.add.using(backend=alias), (i, i), {}) for i in range(1200)]
    calls.append((tasks_extra.keyed.using(backend=alias), (1,), {}))
    with pytest.raises(EnqueueError, match="concurrency key"):
        backend.enqueue_all(calls)
    assert jobs().count() == 0
    assert len(backend.enqueue_all(calls[:1200])) == jobs().count() == 1200


def test_enqueue_all_of_nothing(backend):
    assert backend.enqueue_all([]) == []


def test_async_task_runs(alias, backend, run_claimed):
    result = tasks.async_add.using(backend=alias).enqueue(20, 22)
    [attempt] = run_claimed(alias, 10)
    assert attempt.result.status == TaskResultStatus.SUCCESSFUL
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.SUCCESSFUL
    assert fetched.return_value == 42


def test_context_task_sees_its_result(alias, backend, run_claimed):
    result = tasks.with_context.using(backend=alias).enqueue("v")
    run_claimed(alias, 10)
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.SUCCESSFUL
    assert fetched.return_value == {"attempt": 1, "id": result.id, "value": "v"}


def test_context_attempt_counts_retries(alias, backend, worker, jobs):
    result = tasks_extra.flaky_with_context.using(backend=alias).enqueue(3)
    for _ in range(2):
        [done] = worker.run()
        assert done.outcome.state == "scheduled", done.outcome
        row = jobs(result.id)
        assert backend.dialect.promote_due(alias, row.scheduled_at, 10) == 1
    worker.run()
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.SUCCESSFUL
    assert fetched.return_value == {"attempt": 3, "id": result.id}
    assert fetched.attempts == 3
    assert [e.exception_class_path for e in fetched.errors] == ["builtins.RuntimeError"] * 2


# -- signals ------------------------------------------------------------------------


def test_task_enqueued_fires_on_enqueue(alias, received):
    result = tasks.add.using(backend=alias).enqueue(1, 2)
    [(name, sender, sent)] = received
    assert (name, sender) == ("enqueued", DjqBackend)
    assert sent.id == result.id and sent.status == TaskResultStatus.READY


def test_task_enqueued_fires_for_each_of_enqueue_all(alias, backend, received):
    results = backend.enqueue_all([(tasks.add.using(backend=alias), (i, i), {}) for i in range(5)])
    assert [(name, sent.id) for name, _, sent in received] == [("enqueued", r.id) for r in results]


def test_execute_sends_task_started_and_returns_a_terminal_result(alias, worker, received):
    result = tasks.add.using(backend=alias).enqueue(1, 2)
    received.clear()
    [job] = worker.claim()
    attempt = execute(job)
    [(name, sender, sent)] = received
    assert (name, sender) == ("started", DjqBackend)
    assert sent.id == result.id and sent.status == TaskResultStatus.RUNNING
    assert sent.worker_ids == [worker.worker_id]
    assert attempt.terminal
    assert attempt.result.status == TaskResultStatus.SUCCESSFUL
    assert attempt.result.return_value == 3


def test_enqueued_at_is_now(alias):
    before = timezone.now()
    result = tasks.add.using(backend=alias).enqueue(1, 2)
    assert before <= result.enqueued_at <= timezone.now() + timedelta(milliseconds=1)


def test_aenqueue_all(alias, backend, jobs):
    calls = [(tasks.add.using(backend=alias), (i, i), {}) for i in range(3)]
    results = async_to_sync(backend.aenqueue_all)(calls)
    assert [r.args for r in results] == [[0, 0], [1, 1], [2, 2]]
    assert jobs().count() == 3
