"""Stopping `djq start`: SIGTERM drains within shutdown_timeout, SIGQUIT stops at once."""

from __future__ import annotations

import signal
import time

import pytest
from django.tasks.base import TaskResultStatus

from djq.models import Process
from tests import tasks
from tests.runtime.harness import last_error_class, read_records, wait_for_states, wait_until

pytestmark = pytest.mark.e2e

EXIT_ERROR = "djq.exceptions.ProcessExitError"


def process_rows(alias: str) -> list[tuple[str, str]]:
    return list(Process.objects.using(alias).values_list("kind", "name"))


def test_sigterm_lets_the_running_job_finish(alias, backend, start_runtime, tmp_path):
    runtime = start_runtime(options={"shutdown_timeout": 5})
    path = str(tmp_path / "records.txt")
    slow = tasks.record.using(backend=alias).enqueue(path, "slow", 1.0)
    wait_until(lambda: read_records(path), 15, "the slow job to start")

    sent = time.monotonic()
    code = runtime.stop(timeout=5 + 5)
    assert code == 0
    assert time.monotonic() - sent < 5 + 3
    result = backend.get_result(slow.id)
    assert result.status == TaskResultStatus.SUCCESSFUL, result.errors
    assert result.return_value == "slow"
    assert [r.event for r in read_records(path)] == ["start", "end"]
    assert process_rows(alias) == []
    assert "djq supervisor stopped" in runtime.log()


def test_job_running_past_shutdown_timeout_fails(alias, backend, start_runtime, tmp_path):
    runtime = start_runtime(options={"shutdown_timeout": 1})
    marker, never = tmp_path / "started", tmp_path / "never"
    stuck = tasks.block_until.using(backend=alias).enqueue(str(never), str(marker), 60)
    wait_until(marker.exists, 15, "the job to start")

    sent = time.monotonic()
    assert runtime.stop(timeout=1 + 8) == 0
    assert time.monotonic() - sent < 1 + 4
    result = backend.get_result(stuck.id)
    assert result.status == TaskResultStatus.FAILED
    assert last_error_class(result) == EXIT_ERROR
    assert "shutdown_timeout" in result.errors[-1].traceback
    assert process_rows(alias) == []


def test_sigquit_stops_at_once(alias, backend, start_runtime, tmp_path):
    runtime = start_runtime(options={"shutdown_timeout": 30})
    marker, never = tmp_path / "started", tmp_path / "never"
    stuck = tasks.block_until.using(backend=alias).enqueue(str(never), str(marker), 60)
    wait_until(marker.exists, 15, "the job to start")

    sent = time.monotonic()
    runtime.stop(timeout=10, sig=signal.SIGQUIT)
    assert time.monotonic() - sent < 5, "SIGQUIT waited as if draining"
    wait_for_states(alias, [stuck.id], ("failed",), timeout=5, runtime=runtime)
    assert last_error_class(backend.get_result(stuck.id)) == EXIT_ERROR
    assert process_rows(alias) == []


def test_sigterm_right_after_start_stops_every_child(alias, start_runtime):
    """SIGTERM while the children are still being forked: each must stop, not sit out the grace period."""
    runtime = start_runtime(options={"shutdown_timeout": 30})
    wait_until(lambda: runtime.kinds().get("supervisor"), 20, "the supervisor to register", interval=0.005)
    runtime.send(signal.SIGTERM)
    assert runtime.wait_exit(timeout=10) == 0
    assert "did not stop in time" not in runtime.log()
    assert process_rows(alias) == []
