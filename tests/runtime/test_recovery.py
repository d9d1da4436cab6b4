"""Work claimed by processes that died with nobody watching is failed, never left claimed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.tasks.base import TaskResultStatus
from django.utils import timezone

from djq.engine import processes
from djq.models import Job, Process
from tests import tasks
from tests.runtime.harness import last_error_class, wait_for_states

pytestmark = pytest.mark.e2e

PRUNED = "djq.exceptions.ProcessPrunedError"
MISSING = "djq.exceptions.ProcessMissingError"


@pytest.fixture
def dead_process(alias):
    """A registered worker row whose last heartbeat is an hour old."""

    def make(name: str = "ghost") -> int:
        pk = processes.register(alias, backend_alias=alias, kind="worker", name=name, hostname="gone.example",
                                pid=999_999)
        Process.objects.using(alias).filter(pk=pk).update(last_heartbeat_at=timezone.now() - timedelta(hours=1))
        return pk

    return make


@pytest.fixture
def claimed_job(alias):
    """A job claimed by ``process_id`` (which may name no row at all)."""

    def make(process_id: int):
        result = tasks.add.using(backend=alias).enqueue(1, 2)
        Job.objects.using(alias).filter(pk=result.id).update(
            state="claimed", process_id=process_id, worker_id="worker-1.999999@gone.example",
            started_at=timezone.now() - timedelta(minutes=5),
        )
        return result

    return make


def test_start_fails_orphaned_claims(alias, backend, start_runtime, dead_process, claimed_job):
    ghost = dead_process()
    by_stale = claimed_job(ghost)
    by_nobody = claimed_job(ghost + 1_000)
    assert backend.get_result(by_stale.id).status == TaskResultStatus.RUNNING

    runtime = start_runtime()
    wait_for_states(alias, [by_stale.id, by_nobody.id], ("failed",), runtime=runtime)

    stale = backend.get_result(by_stale.id)
    assert stale.status == TaskResultStatus.FAILED
    assert last_error_class(stale) == PRUNED
    assert stale.worker_ids == ["worker-1.999999@gone.example"]
    assert last_error_class(backend.get_result(by_nobody.id)) == MISSING
    assert not Process.objects.using(alias).filter(pk=ghost).exists()
    assert "pruning ghost" in runtime.log()
    assert runtime.stop() == 0


def test_running_supervisor_recovers_orphans(alias, backend, start_runtime, dead_process, claimed_job):
    """Orphans that appear while a supervisor runs are found by its periodic check (alive threshold 3 s)."""
    runtime = start_runtime()
    runtime.wait_ready("worker")
    by_stale = claimed_job(dead_process("late-ghost"))
    by_nobody = claimed_job(10**9)
    wait_for_states(alias, [by_stale.id, by_nobody.id], ("failed",), timeout=15, runtime=runtime)
    assert last_error_class(backend.get_result(by_stale.id)) == PRUNED
    assert last_error_class(backend.get_result(by_nobody.id)) == MISSING

    # Live processes are left alone.
    assert runtime.kinds() == {"supervisor": 1, "worker": 1, "dispatcher": 1, "scheduler": 1}
    ok = tasks.add.using(backend=alias).enqueue(20, 22)
    wait_for_states(alias, [ok.id], ("finished",), runtime=runtime)
    assert runtime.stop() == 0
