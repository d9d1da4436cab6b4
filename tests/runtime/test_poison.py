"""Values the database cannot store, and failures outside the task's own code, fail one job each:
the rest of the batch is written, the worker keeps working, and nothing is left claimed.

Encoding refuses most unstorable values before they reach the database; these
tests hold whichever of the two layers catches them.
"""

from __future__ import annotations

import pytest
from django.db import connections
from django.tasks.base import TaskResultStatus

from tests import tasks
from tests.runtime import tasks as runtime_tasks
from tests.runtime.harness import wait_for_states

pytestmark = pytest.mark.e2e

OPTIONS = {"workers": [{"queues": ["*"], "threads": 2, "prefetch_multiplier": 4, "polling_interval": 0.05}]}


def assert_isolated(alias, backend, runtime, poison, neighbours) -> None:
    wait_for_states(alias, [poison.id], ("failed",), timeout=30, runtime=runtime)
    wait_for_states(alias, [j.id for j in neighbours], ("finished",), timeout=30, runtime=runtime)
    failed = backend.get_result(poison.id)
    assert failed.status == TaskResultStatus.FAILED
    assert "store" in failed.errors[-1].traceback, failed.errors
    # The worker goes on claiming.
    after = tasks.add.using(backend=alias).enqueue(2, 3)
    wait_for_states(alias, [after.id], ("finished",), timeout=20, runtime=runtime)
    assert runtime.stop() == 0
    assert "ProcessMissingError" not in runtime.log() and "ProcessExitError" not in runtime.log()


@pytest.mark.vendors("postgresql")
def test_a_nul_in_a_return_value_fails_that_job_only(alias, backend, start_runtime):
    poison = runtime_tasks.returns_text.using(backend=alias).enqueue("a", 1, True)
    neighbours = [tasks.add.using(backend=alias).enqueue(i, i) for i in range(6)]
    runtime = start_runtime(options=OPTIONS)
    assert_isolated(alias, backend, runtime, poison, neighbours)


@pytest.mark.vendors("postgresql")
def test_a_nul_in_an_exception_message_fails_that_job_only(alias, backend, start_runtime):
    poison = runtime_tasks.raises_text.using(backend=alias).enqueue("bad <NUL> message")
    neighbours = [tasks.add.using(backend=alias).enqueue(i, i) for i in range(6)]
    runtime = start_runtime(options=OPTIONS)
    wait_for_states(alias, [poison.id], ("failed",), timeout=30, runtime=runtime)
    wait_for_states(alias, [j.id for j in neighbours], ("finished",), timeout=30, runtime=runtime)
    assert backend.get_result(poison.id).errors, "the failure is recorded"
    after = tasks.add.using(backend=alias).enqueue(2, 3)
    wait_for_states(alias, [after.id], ("finished",), timeout=20, runtime=runtime)
    assert runtime.stop() == 0


@pytest.mark.vendors("mysql")
def test_a_return_value_over_max_allowed_packet_fails_that_job_only(alias, backend, start_runtime):
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT @@max_allowed_packet")
        packet = cursor.fetchone()[0]
    poison = runtime_tasks.returns_text.using(backend=alias).enqueue("x", packet + 1024)
    neighbours = [tasks.add.using(backend=alias).enqueue(i, i) for i in range(6)]
    runtime = start_runtime(options=OPTIONS)
    assert_isolated(alias, backend, runtime, poison, neighbours)


def test_a_retry_policy_that_overflows_fails_the_job_and_keeps_the_thread(alias, backend, start_runtime):
    """Item 5 (runtime): the backoff raises after the task's own code; the job fails with a clear
    error instead of staying claimed, and the worker's only thread goes on to the next job."""
    broken = runtime_tasks.fails_with_overflowing_retry.using(backend=alias).enqueue()
    runtime = start_runtime(options={"workers": [{"queues": ["*"], "threads": 1, "polling_interval": 0.05}]})
    wait_for_states(alias, [broken.id], ("failed",), timeout=20, runtime=runtime)
    result = backend.get_result(broken.id)
    assert "could not record this attempt" in result.errors[-1].traceback
    assert "OverflowError" in result.errors[-1].traceback
    after = [tasks.add.using(backend=alias).enqueue(i, 1) for i in range(3)]
    wait_for_states(alias, [j.id for j in after], ("finished",), timeout=20, runtime=runtime)
    assert runtime.stop() == 0
