"""The public Python API in djq.api: enqueue_on_commit and QueueInfo."""

from __future__ import annotations

from django.db import transaction

from djq.api import QueueInfo, discard_job, enqueue_job_again, enqueue_on_commit
from djq.models import Job
from tests import tasks


def count(alias: str) -> int:
    return Job.objects.using(alias).count()


def test_enqueue_on_commit_waits_for_the_commit(alias):
    task = tasks.add.using(backend=alias)
    with transaction.atomic(using=alias):
        enqueue_on_commit(task, 1, 2)
        assert count(alias) == 0
    assert count(alias) == 1


def test_enqueue_on_commit_of_a_rolled_back_transaction_enqueues_nothing(alias):
    task = tasks.add.using(backend=alias)
    try:
        with transaction.atomic(using=alias):
            enqueue_on_commit(task, 1, 2)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert count(alias) == 0


def test_enqueue_on_commit_outside_a_transaction_enqueues_at_once(alias):
    enqueue_on_commit(tasks.add.using(backend=alias), 1, 2)
    assert count(alias) == 1


def test_queue_info_reads_and_verbs(alias):
    task = tasks.add.using(backend=alias, queue_name="mail")
    for i in range(3):
        task.enqueue(i, i)
    mail = QueueInfo("mail", backend_alias=alias)
    assert mail.size == 3
    assert mail.latency is not None and mail.latency >= 0
    assert not mail.paused
    assert mail.pause().changed
    again = mail.pause()
    assert not again.changed and "already paused" in again.message
    assert mail.paused
    assert [q.name for q in QueueInfo.all(alias)] == ["mail"]
    assert mail.resume().changed and not mail.resume().changed
    assert mail.clear().changed == 3
    assert mail.size == 0 and mail.latency is None


def test_discard_and_enqueue_again(alias, backend):
    job = tasks.add.using(backend=alias).enqueue(2, 2)
    copy = enqueue_job_again(job.id, backend_alias=alias)
    assert copy != int(job.id)
    assert backend.get_result(copy).args == [2, 2]
    assert discard_job(job.id, backend_alias=alias).changed == 1
    assert count(alias) == 1
