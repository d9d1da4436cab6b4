"""A worker killed with SIGKILL mid-job: nothing is lost, nothing runs twice, the supervisor replaces it."""

from __future__ import annotations

import os
import signal
from collections import Counter

import pytest
from django.tasks.base import TaskResultStatus

from tests import tasks
from tests.runtime.harness import (
    assert_never_concurrent,
    last_error_class,
    read_records,
    wait_for_states,
    wait_until,
)

pytestmark = pytest.mark.e2e

EXIT_ERROR = "djq.exceptions.ProcessExitError"


def test_sigkilled_worker_loses_no_job(alias, backend, start_runtime, tmp_path):
    runtime = start_runtime()
    runtime.wait_ready("worker")
    record_path = str(tmp_path / "records.txt")
    marker, release = tmp_path / "started", tmp_path / "release"

    blocked = tasks.block_until.using(backend=alias).enqueue(str(release), str(marker))
    first = [tasks.record.using(backend=alias).enqueue(record_path, f"a{i}", 0.1) for i in range(6)]
    wait_until(marker.exists, 15, "the blocking job to start")
    [victim] = runtime.pids_of("worker")
    assert int(marker.read_text()) == victim  # the job runs in that process

    os.kill(victim, signal.SIGKILL)
    wait_for_states(alias, [blocked.id], ("failed",), runtime=runtime)
    result = backend.get_result(blocked.id)
    assert result.status == TaskResultStatus.FAILED
    assert last_error_class(result) == EXIT_ERROR
    assert "killed by SIGKILL" in result.errors[-1].traceback

    replacement = wait_until(lambda: [p for p in runtime.pids_of("worker") if p != victim], 15,
                             "a replacement worker")
    assert victim not in runtime.child_pids() and replacement[0] in runtime.child_pids()

    second = [tasks.record.using(backend=alias).enqueue(record_path, f"b{i}", 0.05) for i in range(4)]
    everything = [blocked.id, *(r.id for r in first), *(r.id for r in second)]
    final = wait_for_states(alias, everything, runtime=runtime)

    records = read_records(record_path)
    assert_never_concurrent(records)
    starts = Counter(r.token for r in records if r.event == "start")
    ends = Counter(r.token for r in records if r.event == "end")
    for job in [*first, *second]:
        token = job.args[1]
        outcome = backend.get_result(job.id)
        assert starts[token] <= 1, f"{token} ran {starts[token]} times"
        if outcome.status == TaskResultStatus.SUCCESSFUL:
            assert starts[token] == ends[token] == 1
        else:  # it was running (or claimed) in the killed worker
            assert last_error_class(outcome) == EXIT_ERROR, outcome.errors
            assert ends[token] == 0
            assert all(r.pid == victim for r in records if r.token == token)
    assert all(backend.get_result(j.id).status == TaskResultStatus.SUCCESSFUL for j in second)
    assert set(final.values()) <= {"finished", "failed"}

    assert runtime.alive()
    assert runtime.stop() == 0
