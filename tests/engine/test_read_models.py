"""The read models: job pages both ways, capped counts, filters, queue rows, semaphores, overview, snapshot."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.tasks import task_backends
from django.utils import timezone

from djq.models import Job, Semaphore, Throughput
from djq.ops import stats
from djq.ops.jobs import job_page
from djq.ops.overview import THROUGHPUT_MINUTES, overview
from djq.ops.pages import Count, InvalidCursor
from djq.ops.queues import list_queues
from djq.ops.semaphores import list_semaphores
from tests import tasks

FIXED = timezone.now().replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def make_jobs(alias):
    """``make_jobs(state, n, **fields)``: n job rows stored as they are, for the orders and counts."""

    def make(state: str, n: int = 1, **fields) -> list[int]:
        db = task_backends[alias].database
        rows = []
        for i in range(n):
            values = {
                "backend_alias": alias, "queue_name": "default", "task_path": "tests.tasks.add", "priority": 0,
                "state": state, "payload": {"args": [], "kwargs": {}}, "enqueued_at": FIXED,
                "scheduled_at": FIXED + timedelta(seconds=i),
            }
            if state in ("finished", "failed", "discarded"):
                values["finished_at"] = FIXED + timedelta(seconds=i // 2)  # pairs share a time: id breaks ties
            if state == "claimed":
                values["started_at"] = FIXED + timedelta(seconds=i)
            values.update({k: (v(i) if callable(v) else v) for k, v in fields.items()})
            rows.append(Job(**values))
        before = Job.objects.using(db).order_by("-id").values_list("id", flat=True).first() or 0
        Job.objects.using(db).bulk_create(rows)
        return list(Job.objects.using(db).filter(id__gt=before).order_by("id").values_list("id", flat=True))

    return make


def ids(page) -> list[int]:
    return [row.id for row in page.rows]


def flat(windows: list[list[int]]) -> list[int]:
    return [i for window in windows for i in window]


def walk(alias, state, limit, **filters) -> list[list[int]]:
    """Every page forwards from the first, then backwards from the last: the windows seen."""
    pages = [job_page(alias, state, limit=limit, **filters)]
    while pages[-1].next_cursor:
        pages.append(job_page(alias, state, limit=limit, after=pages[-1].next_cursor, **filters))
    back = [pages[-1]]
    while back[-1].previous_cursor:
        back.append(job_page(alias, state, limit=limit, before=back[-1].previous_cursor, **filters))
    assert [ids(p) for p in reversed(back)] == [ids(p) for p in pages]
    return [ids(p) for p in pages]


def test_failed_jobs_page_newest_first_both_ways(alias, make_jobs):
    made = make_jobs("failed", 7)
    newest_first = sorted(made, key=lambda i: (made.index(i) // 2, i), reverse=True)
    windows = walk(alias, "failed", 3)
    assert windows == [newest_first[:3], newest_first[3:6], newest_first[6:]]
    first = job_page(alias, "failed", limit=3)
    assert first.previous_cursor is None and str(first.count) == "7" and not first.count.capped


@pytest.mark.parametrize("state", ["ready", "scheduled", "blocked", "claimed", "finished", "discarded"])
def test_each_state_pages_in_its_order(alias, make_jobs, state):
    made = make_jobs(state, 5, priority=lambda i: [0, 5, 0, 5, -1][i])
    rows = {r.id: r for r in job_page(alias, state, limit=10).rows}
    expected = {
        "ready": sorted(made, key=lambda i: (-rows[i].priority, i)),
        "blocked": sorted(made, key=lambda i: (-rows[i].priority, i)),
        "scheduled": sorted(made, key=lambda i: (rows[i].scheduled_at, i)),
        "claimed": sorted(made, key=lambda i: (rows[i].started_at, i)),
        "finished": sorted(made, key=lambda i: (rows[i].finished_at, i), reverse=True),
        "discarded": sorted(made, key=lambda i: (rows[i].finished_at, i), reverse=True),
    }[state]
    assert ids(job_page(alias, state, limit=10)) == expected
    assert flat(walk(alias, state, 2)) == expected


def test_all_states_page_by_id_and_several_states(alias, make_jobs):
    made = make_jobs("ready", 2) + make_jobs("failed", 2) + make_jobs("finished", 1)
    assert flat(walk(alias, None, 2)) == sorted(made, reverse=True)
    assert ids(job_page(alias, ("ready", "failed"), limit=10)) == sorted(made[:4], reverse=True)


def test_counts_are_capped(alias, make_jobs):
    make_jobs("finished", 12)
    capped = job_page(alias, "finished", limit=5, count_cap=10).count
    assert capped == Count(10, True, 10) and str(capped) == "10+" and capped.__json__() == "10+"
    assert str(job_page(alias, "finished", limit=5, count_cap=12).count) == "12"
    assert str(Count.of(10_001)) == "10,000+"
    rows = {q.name: q for q in list_queues(alias, count_cap=10)}
    assert rows == {}  # finished jobs make no queue row
    make_jobs("failed", 11, queue_name="mail")
    make_jobs("ready", 3, queue_name="mail")
    [mail] = list_queues(alias, count_cap=10)
    assert (mail.name, str(mail.failed), str(mail.ready), str(mail.scheduled)) == ("mail", "10+", "3", "0")
    totals = overview(alias, count_cap=10).totals
    assert (str(totals["finished"]), str(totals["failed"]), str(totals["ready"]), str(totals["claimed"])) == \
        ("10+", "10+", "3", "0")


def test_filters_on_what_the_real_finish_stored(alias, run_claimed):
    for queue in ("a", "b"):
        tasks.fail.using(backend=alias, queue_name=queue).enqueue("disk full on /var")
    tasks.fail.using(backend=alias, queue_name="a").enqueue("network down")
    tasks.add.using(backend=alias, queue_name="a").enqueue(1, 2)
    run_claimed(alias, 10)
    failed = job_page(alias, "failed")
    assert len(failed) == 3 and {r.error_class for r in failed} == {"builtins.ValueError"}
    assert {r.error_message for r in failed} == {"disk full on /var", "network down"}
    assert len(job_page(alias, "failed", queue="a")) == 2
    assert len(job_page(alias, "failed", task_path="tests.tasks.fail")) == 3
    assert len(job_page(alias, "failed", task_path="tests.tasks.add")) == 0
    assert len(job_page(alias, "failed", exception_class="ValueError")) == 3
    assert len(job_page(alias, "failed", exception_class="builtins.ValueError")) == 3
    assert len(job_page(alias, "failed", exception_class="KeyError")) == 0
    assert len(job_page(alias, "failed", exception_class="Error")) == 0  # a whole class name, not a suffix
    assert len(job_page(alias, "failed", text="DISK FULL")) == 2
    assert len(job_page(alias, "failed", text="disk", queue="b")) == 1
    assert str(job_page(alias, "failed", text="disk").count) == "2"
    assert len(job_page(alias, "finished", exception_class="ValueError")) == 0
    assert len(job_page(alias, "failed", older_than=3600)) == 0
    assert len(job_page(alias, None, queue="a")) == 3


def test_a_cursor_of_another_listing_is_refused(alias, make_jobs):
    make_jobs("failed", 3)
    cursor = job_page(alias, "failed", limit=1).next_cursor
    for bad in ("nonsense", cursor.replace("failed", "ready"), "failed.x.1"):
        with pytest.raises(InvalidCursor):
            job_page(alias, "failed", after=bad)
    with pytest.raises(InvalidCursor):
        job_page(alias, "failed", after=cursor, before=cursor)


def test_the_real_finish_writes_the_rollup(alias, run_claimed, make_worker):
    tasks.add.using(backend=alias, queue_name="a").enqueue(1, 2)
    tasks.add.using(backend=alias, queue_name="a").enqueue(3, 4)
    tasks.fail.using(backend=alias, queue_name="b").enqueue()
    run_claimed(alias, 10)
    rows = Throughput.objects.using(task_backends[alias].database).filter(backend_alias=alias)
    summed = {(r.queue_name, r.task_path): (r.finished, r.failed, r.runs, r.pickups) for r in rows}
    assert summed == {("a", "tests.tasks.add"): (2, 0, 2, 2), ("b", "tests.tasks.fail"): (0, 1, 1, 1)}
    assert all(r.run_seconds >= 0 and r.pickup_seconds >= 0 for r in rows)
    ov = overview(alias)
    assert len(ov.throughput) == THROUGHPUT_MINUTES
    assert sum(p.finished for p in ov.throughput) == 2 and sum(p.failed for p in ov.throughput) == 1
    assert [(q.name, q.finished, q.failed) for q in ov.busiest_queues] == [("a", 2, 0), ("b", 0, 1)]
    per_task = stats.throughput_rows(alias)
    assert [(t.queue_name, t.finished, t.failed, t.runs) for t in per_task] == [("a", 2, 0, 2), ("b", 0, 1, 1)]


def test_recovery_writes_the_rollup_and_the_error(alias, make_worker, jobs):
    from djq.engine import processes
    from djq.engine.handle import handle

    tasks.add.using(backend=alias, queue_name="a").enqueue(1, 2)
    worker = make_worker()
    [claimed] = worker.claim()
    processes.handle_exited(handle(alias), worker.process_id, "killed by signal 9")
    row = jobs(claimed.id)
    assert row.state == "failed" and row.error_class == "djq.exceptions.ProcessExitError"
    [roll] = Throughput.objects.using(worker.database).filter(backend_alias=alias)
    assert (roll.queue_name, roll.finished, roll.failed, roll.runs) == ("a", 0, 1, 1)
    assert len(job_page(alias, "failed", exception_class="ProcessExitError")) == 1


def test_semaphores_count_blocked_jobs(alias, make_jobs):
    db = task_backends[alias].database
    now = timezone.now()
    for key, free, limit in (("k1", 0, 2), ("k2", 1, 1)):
        Semaphore.objects.using(db).create(key=key, value=free, limit=limit, expires_at=now, created_at=now,
                                           updated_at=now)
    make_jobs("blocked", 3, concurrency_key="k1")
    rows = list_semaphores(alias)
    assert [(s.key, s.free, s.limit, s.holders, s.blocked) for s in rows] == [("k1", 0, 2, 2, 3), ("k2", 1, 1, 0, 0)]
    assert [s.key for s in list_semaphores(alias, key="k2")] == ["k2"]


def test_overview_processes_pauses_and_latency(alias, make_jobs, make_worker, pause):
    make_worker()
    pause("mail")
    make_jobs("ready", 2, scheduled_at=timezone.now() - timedelta(seconds=30))
    ov = overview(alias)
    assert ov.processes == {"worker": 1} and ov.stale_processes == {}
    assert ov.paused_queues == ("mail",)
    assert 29 <= ov.oldest_ready_age < 120
    names = {q.name: q for q in list_queues(alias)}
    assert set(names) == {"default", "mail"} and names["mail"].paused and 29 <= names["default"].latency < 120


def test_one_snapshot_serves_every_thread(alias, monkeypatch, make_jobs):
    make_jobs("ready", 2)
    stats.clear_snapshot_cache()
    builds = []
    real = stats.build_snapshot
    gate = threading.Barrier(8)

    def counted(backend_alias, **kwargs):
        builds.append(backend_alias)
        return real(backend_alias, **kwargs)

    monkeypatch.setattr(stats, "build_snapshot", counted)
    seen = []

    def read():
        gate.wait()
        try:
            seen.append(stats.snapshot(alias, max_age=60))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len({id(s) for s in seen}) == 1
    assert str(seen[0].totals["ready"]) == "2" and seen[0].queues[0].name == "default"
    assert stats.snapshot(alias, max_age=0) is not seen[0] and len(builds) == 2
    stats.clear_snapshot_cache()


def test_the_rollup_counts_deleted_successes_and_limited_jobs(alias, run_claimed, tasks_setting):
    from tests.engine.conftest import djq_entry
    from tests.engine.tasks_extra import one_per_account

    entry = djq_entry(alias)
    entry["OPTIONS"]["preserve_finished_jobs"] = False
    with tasks_setting(entry):
        tasks.add.using(backend=alias).enqueue(1, 2)  # a success that is not kept
        one_per_account.using(backend=alias).enqueue(7)  # holds a slot: the keyed finish path
        run_claimed(alias, 10)
        db = task_backends[alias].database
        assert not Job.objects.using(db).filter(state="finished").exists()
        rows = {r.task_path: (r.finished, r.runs) for r in Throughput.objects.using(db).filter(backend_alias=alias)}
    assert rows == {"tests.tasks.add": (1, 1), one_per_account.module_path: (1, 1)}
