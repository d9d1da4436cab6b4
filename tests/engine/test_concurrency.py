"""Concurrency limits: blocked and discarded jobs, slot hand-off, and maintenance of lost slots."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.tasks.base import TaskResultStatus
from django.utils import timezone

from djq.engine import slots
from djq.engine.handle import handle
from djq.models import Semaphore
from tests import tasks
from tests.engine import tasks_extra
from tests.engine.conftest import djq_entry

KEY = "account:{account_id}"


@pytest.fixture
def limited(alias, concurrency):
    """``limited(limit, **policy)`` -> a task bound to the alias with that policy on ``account_id``."""

    def declare(limit: int, **policy):
        concurrency(tasks_extra.keyed, key=KEY, limit=limit, **policy)
        return tasks_extra.keyed.using(backend=alias)

    return declare


def states(jobs, results) -> list[str]:
    return [jobs(r.id).state for r in results]


def semaphore(alias, key="account:1") -> Semaphore:
    return Semaphore.objects.using(alias).get(key=key)


def test_excess_jobs_are_blocked(alias, limited, jobs):
    task = limited(2)
    results = [task.enqueue(1, n=i) for i in range(5)]
    assert states(jobs, results) == ["ready", "ready", "blocked", "blocked", "blocked"]
    assert all(r.status == TaskResultStatus.READY for r in results)
    assert semaphore(alias).value == 0
    assert jobs(results[2].id).blocked_until > timezone.now()


def test_keys_are_independent(limited, jobs):
    task = limited(1)
    results = [task.enqueue(1), task.enqueue(2), task.enqueue(1)]
    assert states(jobs, results) == ["ready", "ready", "blocked"]


def test_enqueue_all_counts_slots_within_the_batch(alias, backend, limited, jobs):
    task = limited(2)
    results = backend.enqueue_all([(task, (1,), {"n": i}) for i in range(4)])
    assert states(jobs, results) == ["ready", "ready", "blocked", "blocked"]


def test_finishing_one_unblocks_exactly_one(alias, limited, worker, jobs):
    task = limited(2)
    results = [task.enqueue(1, n=i) for i in range(5)]
    [attempt] = worker.run(1)
    assert attempt.outcome.id == int(results[0].id)
    assert states(jobs, results) == ["finished", "ready", "ready", "blocked", "blocked"]
    assert semaphore(alias).value == 0


def test_slots_go_to_blocked_jobs_by_priority(limited, worker):
    task = limited(1)
    holder = task.enqueue(1)
    low = task.using(priority=-5).enqueue(1)
    high = task.using(priority=5).enqueue(1)
    first_mid, second_mid = task.enqueue(1), task.enqueue(1)
    order = []
    while attempts := worker.run(1):
        order += [str(a.outcome.id) for a in attempts]
    assert order == [r.id for r in (holder, high, first_mid, second_mid, low)]


def test_all_blocked_jobs_eventually_run(alias, limited, worker, jobs):
    task = limited(2)
    for i in range(7):
        task.enqueue(1, n=i)
    while worker.run(10):
        assert jobs(state="claimed").count() == 0
    assert jobs(state="finished").count() == 7
    assert semaphore(alias).value == 2


def test_a_failed_holder_also_frees_its_slot(alias, concurrency, worker, jobs):
    concurrency(tasks.fail, key="shared", limit=1)
    concurrency(tasks_extra.keyed, key="shared", limit=1)
    failing = tasks.fail.using(backend=alias).enqueue()
    waiting = tasks_extra.keyed.using(backend=alias).enqueue(2)
    assert states(jobs, [failing, waiting]) == ["ready", "blocked"]
    [attempt] = worker.run(1)
    assert attempt.outcome.state == "failed"
    assert jobs(waiting.id).state == "ready"


def test_discard_on_conflict(alias, limited, worker, jobs, backend):
    task = limited(1, on_conflict="discard")
    kept, dropped = task.enqueue(1, n=1), task.enqueue(1, n=2)
    assert dropped.status == TaskResultStatus.SUCCESSFUL
    row = jobs(dropped.id)
    assert (row.state, row.started_at) == ("discarded", None) and row.finished_at is not None
    fetched = backend.get_result(dropped.id)
    assert fetched.status == TaskResultStatus.SUCCESSFUL and fetched.return_value is None
    assert fetched.worker_ids == []
    assert [a.outcome.id for a in worker.run(10)] == [int(kept.id)]
    assert worker.run(10) == []
    assert jobs(dropped.id).state == "discarded"
    assert task.enqueue(1, n=3).status == TaskResultStatus.READY  # the slot is free again


def test_scheduled_limited_jobs_take_slots_when_due(alias, limited, jobs):
    task = limited(1, on_conflict="block")
    when = timezone.now() + timedelta(minutes=5)
    results = [task.using(run_after=when).enqueue(1, n=i) for i in range(3)]
    assert states(jobs, results) == ["scheduled"] * 3
    assert not Semaphore.objects.using(alias).exists()
    due = when + timedelta(seconds=1)
    assert slots.dispatch_due_limited(handle(alias), due, 100) == 3
    assert states(jobs, results) == ["ready", "blocked", "blocked"]


def test_maintenance_frees_a_slot_whose_holder_vanished(alias, limited, worker, jobs):
    task = limited(1, duration=60)
    holder, waiting = task.enqueue(1), task.enqueue(1)
    worker.claim(1)
    jobs(id=holder.id).delete()  # gone without giving its slot back
    assert slots.maintain(handle(alias), timezone.now()) == 0  # nothing has expired yet
    assert jobs(waiting.id).state == "blocked"
    assert slots.maintain(handle(alias), timezone.now() + timedelta(seconds=61)) == 1
    assert jobs(waiting.id).state == "ready"
    assert semaphore(alias).value == 0


def test_maintenance_never_frees_a_slot_still_held(alias, limited, worker, jobs):
    task = limited(1, duration=60)
    holder, waiting = task.enqueue(1), task.enqueue(1)
    worker.claim(1)
    much_later = timezone.now() + timedelta(hours=2)
    assert slots.maintain(handle(alias), much_later) == 0
    assert (jobs(holder.id).state, jobs(waiting.id).state) == ("claimed", "blocked")
    assert semaphore(alias).value == 0
    assert jobs(waiting.id).blocked_until > much_later  # waits again, for another duration
    assert task.enqueue(1).status == TaskResultStatus.READY and jobs(state="blocked").count() == 2


def test_maintenance_drops_an_unused_expired_semaphore(alias, limited, worker):
    task = limited(1, duration=60)
    task.enqueue(1)
    worker.run(1)
    assert semaphore(alias).value == 1
    slots.maintain(handle(alias), timezone.now() + timedelta(seconds=61))
    assert not Semaphore.objects.using(alias).exists()


def test_reconcile_hands_freed_slots_out_by_priority(alias, limited, worker, jobs):
    task = limited(2)
    holders = [task.enqueue(1), task.enqueue(1)]
    low = task.using(priority=0).enqueue(1)
    high = task.using(priority=9).enqueue(1)
    mid_first = task.using(priority=5).enqueue(1)
    mid_second = task.using(priority=5).enqueue(1)
    worker.claim(2)
    for holder in holders:
        jobs(id=holder.id).delete()
    assert slots.reconcile(handle(alias), "account:1", timezone.now()) == 2
    assert states(jobs, [high, mid_first, mid_second, low]) == ["ready", "ready", "blocked", "blocked"]
    assert semaphore(alias).value == 0
    assert slots.reconcile(handle(alias), "account:1", timezone.now()) == 0


def test_reconcile_counts_ready_and_claimed_holders(alias, limited, worker, jobs):
    task = limited(3)
    results = [task.enqueue(1) for _ in range(5)]
    worker.claim(1)
    assert slots.reconcile(handle(alias), "account:1", timezone.now()) == 0
    assert states(jobs, results) == ["claimed", "ready", "ready", "blocked", "blocked"]


def test_semaphores_are_shared_by_aliases_on_one_database(alias, limited, jobs, tasks_setting):
    limited(1)
    with tasks_setting(other=djq_entry(alias)):
        mine = tasks_extra.keyed.using(backend=alias).enqueue(1)
        theirs = tasks_extra.keyed.using(backend="other").enqueue(1)
        assert states(jobs, [mine, theirs]) == ["ready", "blocked"]


@pytest.mark.vendors("postgresql", "mysql")
def test_concurrent_enqueuers_of_a_new_key(alias, limited, jobs):
    # The first enqueues of a key race to create its semaphore; none may fail
    # (MariaDB used to deadlock here) and the limit must hold.
    task = limited(2)
    threads_per_round = 6
    for account in range(5):
        barrier = threading.Barrier(threads_per_round)
        failures = []

        def enqueue(account=account, barrier=barrier, failures=failures) -> None:
            try:
                barrier.wait()
                task.enqueue(account)
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)
            finally:
                connections[alias].close()

        threads = [threading.Thread(target=enqueue) for _ in range(threads_per_round)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not failures, failures
        states = sorted(jobs(concurrency_key=f"account:{account}").values_list("state", flat=True))
        assert states == ["blocked"] * (threads_per_round - 2) + ["ready"] * 2
        assert semaphore(alias, f"account:{account}").value == 0
