"""`djq start` flags: async mode, and which runners --only-work, --only-dispatch and --skip-recurring start."""

from __future__ import annotations

import pytest
from django.tasks.base import TaskResultStatus

from djq.models import Process
from tests import tasks
from tests.runtime.harness import read_records, wait_for_states, wait_until

pytestmark = pytest.mark.e2e


def test_async_mode_runs_jobs_and_drains(alias, backend, start_runtime, tmp_path):
    runtime = start_runtime("--mode", "async")
    kinds = runtime.wait_ready("worker", "dispatcher", "scheduler")
    assert kinds == {"supervisor": 1, "worker": 1, "dispatcher": 1, "scheduler": 1}
    assert {row["pid"] for row in runtime.rows()} == {runtime.pid}  # threads, not processes
    assert runtime.child_pids() == []

    path = str(tmp_path / "records.txt")
    quick = [tasks.add.using(backend=alias).enqueue(i, i) for i in range(5)]
    wait_for_states(alias, [r.id for r in quick], ("finished",), runtime=runtime)
    assert [backend.get_result(r.id).return_value for r in quick] == [0, 2, 4, 6, 8]

    slow = tasks.record.using(backend=alias).enqueue(path, "slow", 1.0)
    wait_until(lambda: read_records(path), 15, "the slow job to start")
    assert runtime.stop(timeout=10) == 0
    assert backend.get_result(slow.id).status == TaskResultStatus.SUCCESSFUL
    assert [r.event for r in read_records(path)] == ["start", "end"]
    assert not Process.objects.using(alias).exists()


EVERYTHING = {"worker", "dispatcher", "scheduler"}
CASES = {
    "default": ((), {}, EVERYTHING),
    "only-work": (("--only-work",), {}, {"worker"}),
    "only-dispatch": (("--only-dispatch",), {}, {"dispatcher"}),
    "skip-recurring": (("--skip-recurring",), {}, {"worker", "dispatcher"}),
    "env-skip-recurring": ((), {"DJQ_SKIP_RECURRING": "1"}, {"worker", "dispatcher"}),
}


def test_flags_choose_the_runners(alias, start_runtime):
    """Several supervisors share the database; each starts only the runners its flags ask for."""
    runtimes = {name: start_runtime(*args, env=env, name=name) for name, (args, env, _) in CASES.items()}
    for name, runtime in runtimes.items():
        wanted = CASES[name][2]
        kinds = runtime.wait_ready(*wanted, timeout=40)
        # Children are forked together before any registers: once the wanted
        # ones have rows, every child that will ever run exists.
        assert len(runtime.child_pids()) == len(wanted), name
        [supervisor] = [r for r in runtime.rows() if r["kind"] == "supervisor"]
        runners = Process.objects.using(alias).get(pk=supervisor["id"]).metadata["runners"]
        assert {n.split("-")[0] for n in runners} == wanted, (name, runners)
        assert set(kinds) == {"supervisor", *wanted}, name
    for name, runtime in runtimes.items():
        assert set(runtime.kinds()) == {"supervisor", *CASES[name][2]}, name
        assert runtime.stop() == 0, name
