"""Which ready jobs a claim takes, in what order, and that no job is claimed twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.utils import timezone

from djq.db.sql import dialect_for
from djq.models import Job
from tests import tasks
from tests.engine.conftest import EngineWorker, djq_entry


@pytest.fixture
def enqueue(alias, backend):
    """``enqueue(queue, priority)`` -> job id (as an int)."""

    def make(queue_name: str = "default", priority: int = 0) -> int:
        return int(tasks.add.using(backend=alias, queue_name=queue_name, priority=priority).enqueue(1, 1).id)

    return make


def one_by_one(worker, selectors=("*",)) -> list[int]:
    """Claim single jobs until none is left: the order the database hands them out."""
    order = []
    while claimed := worker.claim(1, selectors):
        order += [job.id for job in claimed]
    return order


def test_higher_priority_first(worker, enqueue):
    low, high, mid, top = enqueue(priority=0), enqueue(priority=10), enqueue(priority=5), enqueue(priority=100)
    negative = enqueue(priority=-100)
    assert one_by_one(worker) == [top, high, mid, low, negative]


def test_fifo_within_a_priority(worker, enqueue):
    ids = [enqueue(priority=3) for _ in range(6)]
    assert one_by_one(worker) == ids


def test_batch_is_returned_in_claim_order(worker, enqueue):
    a, b, c = enqueue(priority=1), enqueue(priority=9), enqueue(priority=1)
    assert [job.id for job in worker.claim(10)] == [b, a, c]


def test_batch_takes_the_best_jobs(worker, enqueue):
    ids = {p: enqueue(priority=p) for p in (1, 7, 3, 9, 5)}
    assert [job.id for job in worker.claim(2)] == [ids[9], ids[7]]


def test_selector_order_beats_priority(worker, enqueue):
    a_high, a_low = enqueue("a", 50), enqueue("a", 0)
    b_low, b_mid = enqueue("b", -5), enqueue("b", 5)
    enqueue("c", 100)
    assert one_by_one(worker, ["b", "a"]) == [b_mid, b_low, a_high, a_low]


def test_selector_order_within_one_batch(worker, enqueue):
    a_high = enqueue("a", 50)
    b_low = enqueue("b", -5)
    enqueue("a", 0)
    assert [job.id for job in worker.claim(2, ["b", "a"])] == [b_low, a_high]


def test_star_takes_every_queue(worker, enqueue):
    ids = [enqueue(q) for q in ("default", "email", "x", "a_b")]
    assert sorted(job.id for job in worker.claim(10, ["*"])) == ids


def test_star_after_names_keeps_the_names_first(worker, enqueue):
    other = enqueue("other", 90)
    mine = enqueue("mine", 0)
    assert one_by_one(worker, ["mine", "*"]) == [mine, other]


def test_prefix_selector(worker, enqueue):
    email, emails_high = enqueue("email"), enqueue("emails-high")
    enqueue("xemail"), enqueue("default"), enqueue("emai")
    assert sorted(job.id for job in worker.claim(10, ["email*"])) == [email, emails_high]


def test_selectors_are_case_sensitive(worker, enqueue):
    # MariaDB compares text without case by default; djq's migration gives
    # its name columns binary collations so that it behaves like the others.
    email, upper = enqueue("email"), enqueue("Email")
    assert [job.id for job in worker.claim(10, ["email*"])] == [email]
    assert [job.id for job in worker.claim(10, ["Email"])] == [upper]


@pytest.mark.parametrize(
    ("selector", "matching", "others"),
    [
        ("a_b*", ["a_b", "a_bc"], ["axb", "axbc", "ab"]),
        ("a%*", ["a%", "a%b"], ["ab", "axb"]),
        ("a!*", ["a!", "a!b"], ["a", "ab"]),
        ("100%_*", ["100%_off"], ["100x_off", "1000"]),
    ],
)
def test_prefix_selector_is_literal(worker, enqueue, selector, matching, others):
    wanted = [enqueue(q) for q in matching]
    for q in others:
        enqueue(q)
    assert sorted(job.id for job in worker.claim(10, [selector])) == wanted


def test_exact_name_is_literal(worker, enqueue):
    enqueue("a_b")
    assert worker.claim(10, ["a%b"]) == []
    assert worker.claim(10, ["a_"]) == []


def test_paused_queue_is_skipped(worker, enqueue, pause):
    paused = enqueue("paused", 100)
    free = enqueue("free", 0)
    pause("paused")
    assert [job.id for job in worker.claim(10, ["*"])] == [free]
    assert worker.claim(10, ["paused"]) == []
    assert worker.claim(10, ["pa*"]) == []
    assert paused not in [job.id for job in worker.claim(10, ["paused", "*"])]


def test_pause_of_another_backend_alias_does_not_apply(worker, enqueue, pause):
    job = enqueue("shared")
    pause("shared", backend_alias="someone-else")
    assert [j.id for j in worker.claim(10, ["shared"])] == [job]


def test_claim_only_takes_this_alias(alias, worker, enqueue, tasks_setting):
    with tasks_setting(other=djq_entry(alias)):
        theirs = int(tasks.add.using(backend="other").enqueue(1, 1).id)
        mine = enqueue()
        assert [j.id for j in worker.claim(10)] == [mine]
        other_worker = EngineWorker("other", "other-worker")
        assert [j.id for j in other_worker.claim(10)] == [theirs]


def test_claim_skips_jobs_not_ready(alias, worker, enqueue, jobs):
    ready = enqueue()
    tasks.add.using(backend=alias, run_after=timezone.now() + timezone.timedelta(hours=1)).enqueue(1, 1)
    assert [j.id for j in worker.claim(10)] == [ready]
    assert worker.claim(10) == []
    row = jobs(ready)
    assert (row.state, row.process_id, row.worker_id) == ("claimed", worker.process_id, worker.worker_id)


def test_claimed_job_carries_what_execution_needs(alias, worker, backend):
    result = tasks.echo.using(backend=alias, queue_name="q", priority=4).enqueue(1, x=[2])
    [job] = worker.claim()
    assert (job.id, job.backend_alias, job.queue_name, job.task_path, job.priority) == (
        int(result.id), alias, "q", "tests.tasks.echo", 4)
    assert job.payload == {"args": [1], "kwargs": {"x": [2]}}
    assert job.attempts == [] and job.concurrency_key is None
    assert job.worker_id == worker.worker_id
    assert job.enqueued_at == result.enqueued_at
    assert job.started_at.tzinfo is not None


@pytest.mark.vendors("postgresql", "mysql")
@pytest.mark.parametrize("skip_locked", [True, False], ids=["skip-locked", "wait"])
def test_concurrent_claimers_never_share_a_job(alias, backend, skip_locked):
    total = 300
    backend.enqueue_all([(tasks.add.using(backend=alias, priority=i % 5), (i, i), {}) for i in range(total)])
    claimers = [EngineWorker(alias, f"claimer-{i}") for i in range(2)]
    barrier = threading.Barrier(len(claimers))
    claimed: list[list[int]] = [[] for _ in claimers]
    failures: list[BaseException] = []

    def claim(index: int) -> None:
        # Each thread has its own Django connection, so its own transactions.
        dialect = dialect_for(alias, use_skip_locked=skip_locked)
        me = claimers[index]
        try:
            barrier.wait()
            while True:
                jobs = dialect.claim(alias, ["*"], 7, process_id=me.process_id, worker_id=me.worker_id,
                                     now=timezone.now())
                claimed[index] += [job.id for job in jobs]
                if not jobs:
                    with connections[alias].cursor() as cursor:
                        cursor.execute("SELECT COUNT(*) FROM djq_job WHERE state = 'ready'")
                        if cursor.fetchone()[0] == 0:
                            return
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connections[alias].close()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(claimers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    first, second = (set(ids) for ids in claimed)
    assert not first & second
    assert len(first) + len(second) == total
    assert first and second, "both claimers should have taken some jobs"
    held = dict(Job.objects.using(alias).values_list("id", "process_id"))
    assert all(held[i] == claimers[0].process_id for i in first)
    assert all(held[i] == claimers[1].process_id for i in second)
