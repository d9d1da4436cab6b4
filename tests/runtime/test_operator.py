"""Operator features end to end, with real runtime processes: limits, retries, recurring, crashes."""

from __future__ import annotations

import os
import signal
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from django.tasks.base import TaskResultStatus

from djq.models import Job, RecurringExecution
from tests import operator_tasks
from tests.runtime.harness import last_error_class, read_records, wait_for_states, wait_until

pytestmark = pytest.mark.e2e

TWO_WORKERS = {"workers": [{"queues": ["*"], "threads": 3, "polling_interval": 0.05}]}


def max_overlap(records) -> int:
    running = peak = 0
    for rec in sorted(records, key=lambda r: (r.at, r.event != "end")):
        running += 1 if rec.event == "start" else -1
        peak = max(peak, running)
    return peak


def test_a_limit_of_two_holds_across_two_runtimes(alias, backend, start_runtime, tmp_path):
    path = str(tmp_path / "records.txt")
    first = start_runtime(options=TWO_WORKERS, name="first")
    second = start_runtime(options=TWO_WORKERS, name="second")
    first.wait_ready("worker")
    second.wait_ready("worker")
    results = backend.enqueue_all(
        [(operator_tasks.limited_record.using(backend=alias), (path, f"t{i}"), {}) for i in range(50)]
    )
    final = wait_for_states(alias, [r.id for r in results], ("finished",), timeout=90, runtime=first)
    assert set(final.values()) == {"finished"}
    records = read_records(path)
    assert len([r for r in records if r.event == "start"]) == 50
    assert max_overlap(records) <= 2
    assert len({r.pid for r in records}) >= 2  # both runtimes did some of the work
    assert not Job.objects.using(alias).filter(state="blocked").exists()


def test_discard_drops_duplicates_and_says_so(alias, backend):
    task = operator_tasks.singleton.using(backend=alias)
    results = backend.enqueue_all([(task, (), {"key": "nightly"}) for _ in range(5)])
    states = dict(Job.objects.using(alias).filter(id__in=[int(r.id) for r in results]).values_list("id", "state"))
    assert sorted(states.values()) == ["discarded"] * 4 + ["ready"]
    kept = int(next(r.id for r in results if states[int(r.id)] == "ready"))
    for r in results:
        if int(r.id) != kept:
            assert backend.get_result(r.id).status == TaskResultStatus.SUCCESSFUL


def test_a_killed_slot_holder_gives_its_slot_back(alias, backend, start_runtime, tmp_path):
    runtime = start_runtime(options=TWO_WORKERS)
    runtime.wait_ready("worker")
    release, marker = tmp_path / "release", tmp_path / "started"
    holder = operator_tasks.limited_block.using(backend=alias).enqueue(str(release), str(marker))
    waiter = operator_tasks.limited_block.using(backend=alias).enqueue(str(release), str(tmp_path / "second"))
    wait_until(marker.exists, 20, "the slot holder to start")
    assert Job.objects.using(alias).get(id=int(waiter.id)).state == "blocked"

    os.kill(int(marker.read_text()), signal.SIGKILL)
    release.touch()  # the waiter may finish as soon as it gets the slot
    final = wait_for_states(alias, [holder.id, waiter.id], timeout=30, runtime=runtime)
    assert final == {int(holder.id): "failed", int(waiter.id): "finished"}
    assert last_error_class(backend.get_result(holder.id)) == "djq.exceptions.ProcessExitError"


def test_a_task_failing_twice_succeeds_on_its_third_attempt(alias, backend, start_runtime, tmp_path):
    path = str(tmp_path / "attempts.txt")
    runtime = start_runtime()
    runtime.wait_ready("worker", "dispatcher")
    job = operator_tasks.fails_twice.using(backend=alias).enqueue(path)
    wait_for_states(alias, [job.id], ("finished",), timeout=30, runtime=runtime)

    result = backend.get_result(job.id)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 3
    assert result.attempts == 3
    assert [e.exception_class_path for e in result.errors] == ["builtins.ConnectionError"] * 2
    starts = [float(line) for line in Path(path).read_text().split()]
    gaps = [b - a for a, b in pairwise(starts)]
    # The policy: 0.5 s, then 1 s (base 0.5, factor 2, no jitter); never earlier.
    assert gaps[0] >= 0.5 and gaps[1] >= 1.0
    assert gaps[1] > gaps[0]


def test_two_schedulers_fire_each_slot_once(alias, start_runtime):
    options = {"recurring": {"tick": {"task_path": "tests.tasks.add", "schedule": "* * * * * *", "args": [1, 1]}},
               "scheduler": {"polling_interval": 1}}
    first = start_runtime(options=options, name="first")
    second = start_runtime(options=options, name="second")
    for runtime in (first, second):
        runtime.wait_ready("scheduler")
    wait_until(lambda: RecurringExecution.objects.using(alias).filter(task_key="tick").count() >= 5, 30,
               "five fired slots")
    first.stop()
    second.stop()
    slots: list[datetime] = list(
        RecurringExecution.objects.using(alias).filter(task_key="tick").order_by("run_at").values_list("run_at",
                                                                                                   flat=True)
    )
    jobs = Job.objects.using(alias).filter(recurring_key="tick").count()
    assert jobs == len(slots)  # one job per slot, and the unique row makes a second one impossible
    assert all(b - a == timedelta(seconds=1) for a, b in pairwise(slots)), slots
