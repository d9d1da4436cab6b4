"""Pruning without double execution: a pruned worker starts nothing it held, live processes survive
outages longer than the alive threshold, a pruned supervisor keeps its children, a hung child is replaced.

Heartbeats every second, an alive threshold of 3 s (``FAST_OPTIONS``).
"""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import timedelta

import pytest
from django.tasks.base import TaskResultStatus
from django.utils import timezone

from djq.engine import processes
from djq.engine.handle import handle
from djq.models import Job, Process
from tests import tasks
from tests.runtime.harness import (
    assert_never_concurrent,
    last_error_class,
    read_records,
    wait_for_states,
    wait_until,
)
from tests.runtime.proxy import TcpProxy

pytestmark = pytest.mark.e2e

PRUNED = "djq.exceptions.ProcessPrunedError"
EXIT_ERROR = "djq.exceptions.ProcessExitError"
THRESHOLD = 3


def heartbeat_age(alias: str, pk: int) -> float:
    seen = Process.objects.using(alias).filter(pk=pk).values_list("last_heartbeat_at", flat=True).first()
    return (timezone.now() - seen).total_seconds() if seen else float("inf")


def stopped(pid: int) -> bool:
    """Whether ``pid`` is stopped (T) or gone; SIGSTOP reaches a process asynchronously."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("T", "t", "Z")
    except FileNotFoundError:
        return True


def gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie nobody reaped yet counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_pruned_worker_starts_none_of_the_jobs_it_had_prefetched(alias, backend, start_runtime, tmp_path):
    """Item 1: the whole runtime is stopped past the threshold and pruned meanwhile (as another
    supervisor would); once continued, its worker starts none of the jobs it had claimed."""
    path, marker, release = str(tmp_path / "records.txt"), tmp_path / "started", tmp_path / "release"
    runtime = start_runtime(options={"workers": [{"queues": ["*"], "threads": 1, "prefetch_multiplier": 4,
                                                  "polling_interval": 0.05}]})
    # Quick jobs first: a worker holds its whole prefetch only once it has seen jobs finish quickly.
    warm = backend.enqueue_all([(tasks.record.using(backend=alias), (path, f"w{i}", 0.0), {}) for i in range(8)])
    wait_for_states(alias, [r.id for r in warm], ("finished",), runtime=runtime)
    # One claim takes all four: the first runs (and blocks), the others wait in the worker.
    blocker, *prefetched = backend.enqueue_all(
        [(tasks.block_until.using(backend=alias), (str(release), str(marker)), {})]
        + [(tasks.record.using(backend=alias), (path, f"p{i}", 0.05), {}) for i in range(3)]
    )
    ids = [blocker.id, *(j.id for j in prefetched)]
    wait_until(marker.exists, 15, "the blocking job to start")
    [worker_row] = [r for r in runtime.rows() if r["kind"] == "worker"]
    wait_until(lambda: set(Job.objects.using(alias).filter(id__in=ids).values_list("state", flat=True))
               == {"claimed"}, 15, "the worker to claim (prefetch) every job")

    os.killpg(runtime.pid, signal.SIGSTOP)
    try:
        wait_until(lambda: heartbeat_age(alias, worker_row["id"]) > THRESHOLD, 15, "the heartbeat to go stale")
        failed = processes.prune_stale(handle(alias), threshold=THRESHOLD)
        assert {int(i) for i in ids} <= set(failed)
        release.write_text("go")
    finally:
        os.killpg(runtime.pid, signal.SIGCONT)

    wait_until(lambda: gone(worker_row["pid"]), 20, "the pruned worker to stop")
    assert not [r for r in read_records(path) if r.pid == worker_row["pid"] and r.token.startswith("p")], \
        "a pruned worker started a job"
    assert "was pruned" in runtime.log()
    for job in prefetched:
        assert last_error_class(backend.get_result(job.id)) == PRUNED
    # The supervisor replaces it and work goes on.
    more = tasks.record.using(backend=alias).enqueue(path, "after", 0.0)
    wait_for_states(alias, [more.id], ("finished",), runtime=runtime)
    assert runtime.stop() == 0


@pytest.mark.vendors("postgresql", "mysql")
def test_an_outage_longer_than_the_threshold_prunes_no_live_worker(alias, backend, start_runtime, tmp_path):
    """Item 2: two supervisors lose the database for longer than the alive threshold; when it is
    back neither prunes the other's live workers, and every job runs once and succeeds."""
    databases = json.loads(os.environ["DJQ_TEST_DATABASES"])
    real = databases[alias]
    with TcpProxy(real["HOST"], real["PORT"]) as proxy:
        databases[alias] = {**real, "HOST": "127.0.0.1", "PORT": str(proxy.port)}
        options = {"retry": {"max_attempts": 3, "backoff_base": 0.1, "backoff_factor": 1, "jitter": 0}}
        first = start_runtime(databases=databases, options=options, name="first")
        second = start_runtime(databases=databases, options=options, name="second")
        first.wait_ready("worker")
        second.wait_ready("worker")
        path = str(tmp_path / "records.txt")
        jobs = [tasks.record.using(backend=alias).enqueue(path, f"long-{i}", 5.0) for i in range(4)]
        wait_until(lambda: len(read_records(path)) >= 4, 20, "four long jobs to start")

        proxy.cut()
        cut_at = time.monotonic()
        first.wait_for_log("lost the database")
        second.wait_for_log("lost the database")
        # The outage itself lasts a fixed time, longer than the threshold: that is the scenario.
        time.sleep(max(0.0, THRESHOLD + 2.5 - (time.monotonic() - cut_at)))
        proxy.restore()

        wait_for_states(alias, [j.id for j in jobs], ("finished", "failed"), timeout=40, runtime=first)
        records = read_records(path)
        assert_never_concurrent(records)
        for job in jobs:
            result = backend.get_result(job.id)
            assert result.status == TaskResultStatus.SUCCESSFUL, result.errors
            assert len(result.errors) == 0 and result.attempts == 1, result.errors
        assert len([r for r in records if r.event == "start"]) == 4
        for runtime in (first, second):
            assert "was pruned" not in runtime.log(), runtime.log()
            assert runtime.alive()
            assert runtime.stop(timeout=20) == 0


def test_a_pruned_supervisor_keeps_its_identity_and_its_children(alias, backend, start_runtime, tmp_path):
    """Item 3: the supervisor's own row is pruned; it comes back under the same id, so a worker that
    crashes later is still recovered at once as its child (ProcessExitError, not a prune)."""
    runtime = start_runtime()
    runtime.wait_ready("worker")
    [sup] = [r for r in runtime.rows() if r["kind"] == "supervisor"]
    processes.deregister(alias, sup["id"])  # what another supervisor's prune does
    runtime.wait_for_log("was pruned")
    wait_until(lambda: Process.objects.using(alias).filter(pk=sup["id"]).exists(), 10,
               "the supervisor row to come back")
    assert [r["id"] for r in runtime.rows() if r["kind"] == "supervisor"] == [sup["id"]]

    marker, release = tmp_path / "started", tmp_path / "release"
    blocked = tasks.block_until.using(backend=alias).enqueue(str(release), str(marker))
    wait_until(marker.exists, 15, "the blocking job to start")
    os.kill(int(marker.read_text()), signal.SIGKILL)
    wait_for_states(alias, [blocked.id], ("failed",), runtime=runtime)
    result = backend.get_result(blocked.id)
    assert last_error_class(result) == EXIT_ERROR, result.errors
    assert runtime.stop() == 0


@pytest.mark.vendors("sqlite", "postgresql")
def test_a_hung_child_is_killed_pruned_and_replaced_by_its_supervisor(alias, backend, start_runtime, tmp_path):
    """Item 6: a worker stopped with SIGSTOP keeps its job claimed and the queue waits; its own
    supervisor kills it, fails its job as pruned and starts a new worker, which runs the rest."""
    runtime = start_runtime(options={"workers": [{"queues": ["*"], "threads": 1, "prefetch_multiplier": 1,
                                                  "polling_interval": 0.05}]})
    runtime.wait_ready("worker")
    marker, release = tmp_path / "started", tmp_path / "release"
    hung = tasks.block_until.using(backend=alias).enqueue(str(release), str(marker))
    wait_until(marker.exists, 15, "the job to start")
    victim = int(marker.read_text())
    waiting = [tasks.add.using(backend=alias).enqueue(i, i) for i in range(3)]
    os.kill(victim, signal.SIGSTOP)
    try:
        wait_for_states(alias, [hung.id], ("failed",), timeout=30, runtime=runtime)
    finally:
        if not gone(victim):
            os.kill(victim, signal.SIGCONT)
    assert last_error_class(backend.get_result(hung.id)) == PRUNED
    wait_for_states(alias, [j.id for j in waiting], ("finished",), timeout=20, runtime=runtime)
    assert gone(victim)
    assert victim not in runtime.pids_of("worker")
    assert "pruning worker-1" in runtime.log()
    assert runtime.stop() == 0


def test_children_of_a_killed_supervisor_drain_and_exit(alias, backend, start_runtime, tmp_path):
    """Item 7: SIGKILL the supervisor; its worker, dispatcher and scheduler notice, finish the running
    job within shutdown_timeout, remove their rows and exit."""
    runtime = start_runtime()
    runtime.wait_ready("worker", "dispatcher", "scheduler")
    children = runtime.child_pids()
    assert len(children) >= 3
    path = str(tmp_path / "records.txt")
    job = tasks.record.using(backend=alias).enqueue(path, "drained", 1.0)
    wait_until(lambda: read_records(path), 15, "the job to start")
    runtime.send(signal.SIGKILL)
    runtime.wait_exit(10)
    wait_until(lambda: all(gone(pid) for pid in children), 20, "the orphaned children to exit")
    assert backend.get_result(job.id).status == TaskResultStatus.SUCCESSFUL
    rows = set(Process.objects.using(alias).values_list("kind", flat=True))
    assert rows <= {"supervisor"}, rows  # the children removed their rows; only the killed supervisor's is left
    # A new supervisor prunes that one once it has seen a threshold of fresh heartbeats.
    again = start_runtime(name="again")
    again.wait_ready("worker")
    wait_until(lambda: len([r for r in Process.objects.using(alias).values("kind") if r["kind"] == "supervisor"])
               == 1, 20, "the dead supervisor's row to be pruned")
    assert again.stop() == 0


def test_pruning_waits_for_fresh_heartbeats_after_a_start(alias, start_runtime):
    """Item 2, at start: a supervisor that just started prunes nothing until it has been connected
    for a whole threshold, however old the heartbeats it sees."""
    pk = processes.register(alias, backend_alias=alias, kind="worker", name="sleeper", hostname="elsewhere", pid=1)
    Process.objects.using(alias).filter(pk=pk).update(last_heartbeat_at=timezone.now() - timedelta(hours=1))
    started = time.monotonic()
    runtime = start_runtime()
    runtime.wait_for_log("pruning sleeper", timeout=20)
    assert time.monotonic() - started >= THRESHOLD
    assert runtime.stop() == 0
