"""Stop signals that come early or twice: during the migrations wait, and SIGQUIT after a drain began (issue 9)."""

from __future__ import annotations

import signal
import time

import pytest

from tests import tasks
from tests.runtime.harness import last_error_class, wait_for_states, wait_until

pytestmark = pytest.mark.e2e


@pytest.mark.vendors("sqlite")
@pytest.mark.parametrize("mode", ["fork", "async"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_item_7_a_stop_signal_ends_the_migrations_wait_at_once(alias, start_runtime, tmp_path, mode, sig):
    empty = {alias: {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "unmigrated.sqlite3")}}
    runtime = start_runtime("--mode", mode, "--migration-wait-timeout", "120", databases=empty)
    runtime.wait_for_log("waiting for djq migrations", timeout=30)

    sent = time.monotonic()
    runtime.send(sig)
    code = runtime.wait_exit(timeout=30)

    assert time.monotonic() - sent < 10, "the signal waited for the migrations timeout"
    assert code == 0
    assert "stopped while waiting for djq migrations" in runtime.log()
    assert "djq migrations not applied" not in runtime.log()


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_item_8_sigquit_after_a_drain_began_stops_at_once_in_fork_mode(alias, backend, start_runtime, tmp_path,
                                                                       first):
    runtime = start_runtime("--mode", "fork", options={"shutdown_timeout": 60})
    marker, never = tmp_path / "started", tmp_path / "never"
    stuck = tasks.block_until.using(backend=alias).enqueue(str(never), str(marker), 120)
    wait_until(marker.exists, 20, "the job to start")

    runtime.send(first)
    runtime.wait_for_log("draining: running jobs get up to 60s", timeout=10)
    sent = time.monotonic()
    runtime.send(signal.SIGQUIT)
    runtime.wait_exit(timeout=30)

    assert time.monotonic() - sent < 10, "SIGQUIT after a drain waited for shutdown_timeout"
    wait_for_states(alias, [stuck.id], ("failed",), timeout=10, runtime=runtime)
    assert last_error_class(backend.get_result(stuck.id)) == "djq.exceptions.ProcessExitError"
