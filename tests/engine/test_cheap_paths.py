"""What the fast paths must keep: COPY enqueue is all or nothing, signals reach every real receiver,
and a job writes per-job log lines only at DEBUG (failures at WARNING/ERROR)."""

from __future__ import annotations

import logging

import psycopg
import pytest
from django.db import DatabaseError, connections, transaction
from django.tasks.base import TaskResultStatus
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils import timezone

from djq.backend import DjqBackend
from djq.db.rows import NewJob
from djq.engine.execution import execute, wanted
from djq_cli.commands.start import quiet_django_task_log
from tests import tasks

COPY_SIZE = 300  # over PostgresDialect.copy_threshold


@pytest.fixture
def django_task_log():
    """Set the level of Django's own ``django.tasks`` logger for one test."""
    log = logging.getLogger("django.tasks")
    before = log.level

    def set_level(level: int) -> None:
        log.setLevel(level)

    yield set_level
    log.setLevel(before)


def new_job(alias: str, i: int, **changes) -> NewJob:
    now = timezone.now()
    job = NewJob(backend_alias=alias, queue_name="default", task_path="tests.tasks.add", priority=0, state="ready",
                 payload=f'{{"args":[{i},{i}],"kwargs":{{}}}}', enqueued_at=now, scheduled_at=now)
    for name, value in changes.items():
        setattr(job, name, value)
    return job


# -- COPY enqueue ----------------------------------------------------------------------


@pytest.mark.vendors("postgresql")
def test_bulk_enqueue_by_copy_returns_each_calls_own_id(alias, backend, jobs):
    calls = [(tasks.add.using(backend=alias), (i, 1), {}) for i in range(COPY_SIZE)]
    results = backend.enqueue_all(calls)
    assert len(results) == COPY_SIZE
    for i, result in enumerate(results):
        assert jobs(result.id).payload == {"args": [i, 1], "kwargs": {}}
        assert result.args == [i, 1] and result.status == TaskResultStatus.READY


@pytest.mark.vendors("postgresql")
def test_bulk_enqueue_by_copy_is_all_or_nothing(alias, backend, jobs):
    rows = [new_job(alias, i) for i in range(COPY_SIZE)]
    rows[-1].priority = 10**6  # the column is a smallint: the server refuses the last row
    with pytest.raises(DatabaseError):
        backend.dialect.insert_jobs(rows)
    assert jobs().count() == 0
    # and inside the caller's transaction, the rows go when it rolls back
    with pytest.raises(RuntimeError), transaction.atomic(using=backend.database):
        backend.dialect.insert_jobs([new_job(alias, i) for i in range(COPY_SIZE)])
        assert jobs().count() == COPY_SIZE
        raise RuntimeError("roll back")
    assert jobs().count() == 0


@pytest.mark.vendors("postgresql")
def test_bulk_enqueue_by_copy_wakes_listeners_at_commit(alias, backend):
    settings = connections[backend.database].settings_dict
    with psycopg.connect(host=settings["HOST"], port=settings["PORT"], user=settings["USER"],
                         dbname=settings["NAME"], autocommit=True) as listener:
        listener.execute("LISTEN djq")
        backend.enqueue_all([(tasks.add.using(backend=alias, queue_name="bulk"), (i, i), {})
                             for i in range(COPY_SIZE)])
        payloads = [n.payload for n in listener.notifies(timeout=10, stop_after=1)]
    assert payloads == [f"{alias}:bulk"]


@pytest.mark.vendors("postgresql")
def test_bulk_enqueue_by_copy_sends_task_enqueued_for_each_job(alias, backend):
    seen = []

    def receiver(sender, task_result, **kwargs):
        seen.append((sender, task_result.id))

    task_enqueued.connect(receiver)
    try:
        results = backend.enqueue_all([(tasks.add.using(backend=alias), (i, i), {}) for i in range(COPY_SIZE)])
    finally:
        task_enqueued.disconnect(receiver)
    assert seen == [(DjqBackend, r.id) for r in results]


# -- signals only when something receives them -------------------------------------------


def test_django_own_log_receivers_count_only_when_their_logger_writes(django_task_log):
    django_task_log(logging.CRITICAL)
    assert not wanted(task_started, DjqBackend)
    assert not wanted(task_finished, DjqBackend, logging.ERROR)
    django_task_log(logging.ERROR)
    assert wanted(task_finished, DjqBackend, logging.ERROR)
    assert not wanted(task_finished, DjqBackend, logging.INFO)
    django_task_log(logging.INFO)
    assert wanted(task_started, DjqBackend)


def test_any_other_receiver_is_sent_to(django_task_log):
    django_task_log(logging.CRITICAL)

    def receiver(sender, task_result, **kwargs):
        pass

    task_started.connect(receiver)
    try:
        assert wanted(task_started, DjqBackend)
    finally:
        task_started.disconnect(receiver)
    assert not wanted(task_started, DjqBackend)


def test_a_job_with_receivers_gets_the_same_results_as_always(alias, worker, django_task_log):
    django_task_log(logging.CRITICAL)
    started = []

    def on_started(sender, task_result, **kwargs):
        started.append((sender, task_result.id, task_result.status, list(task_result.worker_ids)))

    task_started.connect(on_started)
    try:
        result = tasks.add.using(backend=alias).enqueue(2, 5)
        [job] = worker.claim()
        attempt = execute(job)
    finally:
        task_started.disconnect(on_started)
    assert started == [(DjqBackend, result.id, TaskResultStatus.RUNNING, [worker.worker_id])]
    final = attempt.result
    assert final is attempt.result  # built once
    assert (final.id, final.status, final.return_value) == (result.id, TaskResultStatus.SUCCESSFUL, 7)
    assert final.worker_ids == [worker.worker_id]


def test_a_context_task_gets_its_result_without_any_receiver(alias, worker, django_task_log):
    django_task_log(logging.CRITICAL)
    result = tasks.with_context.using(backend=alias).enqueue("x")
    [job] = worker.claim()
    attempt = execute(job)
    assert attempt.outcome.state == "finished"
    assert attempt.result.return_value == {"attempt": 1, "id": result.id, "value": "x"}


# -- one line per job, at most, by default --------------------------------------------------


def test_a_successful_job_logs_only_at_debug(alias, worker, caplog):
    tasks.add.using(backend=alias).enqueue(1, 1)
    tasks.add.using(backend=alias).enqueue(2, 2)
    first, second = worker.claim()
    with caplog.at_level(logging.INFO, logger="djq"):
        execute(first)
    assert [r for r in caplog.records if r.name == "djq.job"] == []
    with caplog.at_level(logging.DEBUG, logger="djq"):
        execute(second)
    lines = [r.getMessage() for r in caplog.records if r.name == "djq.job"]
    assert len(lines) == 2 and "started" in lines[0] and "finished" in lines[1]


def test_a_failed_job_logs_one_error_line(alias, worker, caplog):
    tasks.fail.using(backend=alias).enqueue("nope")
    [job] = worker.claim()
    with caplog.at_level(logging.INFO, logger="djq"):
        execute(job)
    records = [r for r in caplog.records if r.name == "djq.job"]
    assert [r.levelno for r in records] == [logging.ERROR]
    assert "ValueError: nope" in records[0].getMessage()


def test_djq_start_silences_djangos_duplicate_lines_unless_configured(django_task_log):
    django_task_log(logging.NOTSET)
    quiet_django_task_log()
    assert logging.getLogger("django.tasks").level == logging.CRITICAL
    django_task_log(logging.INFO)  # the project asked for them
    quiet_django_task_log()
    assert logging.getLogger("django.tasks").level == logging.INFO


def test_the_worker_sums_up_instead_of_a_line_per_job(caplog):
    from djq.config import get_config
    from djq.db.rows import Outcome
    from djq.engine.execution import Attempt
    from djq.runtime.worker import Worker

    config = get_config("default")
    w = Worker(config, config.workers[0], name="worker-summary")
    now = timezone.now()
    for i, state in enumerate(["finished", "finished", "failed", "scheduled"]):
        w.inflight[i] = None
        w._recorded(Attempt(Outcome(id=i, state=state, finished_at=now, scheduled_at=None, attempts="[]",
                                    return_value=None), state != "scheduled", result=None))
    with caplog.at_level(logging.INFO, logger="djq.runtime"):
        w.log_summary(force=True)
        w.log_summary(force=True)  # nothing new: no line
    [line] = [r.getMessage() for r in caplog.records if r.name == "djq.runtime"]
    assert "worker-summary: 4 jobs" in line and "2 finished, 1 failed, 1 to retry" in line
