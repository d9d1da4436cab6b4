"""``supervisor_pidfile``: a second supervisor on the same pidfile refuses to start, in one line."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_second_supervisor_on_the_same_pidfile_exits(alias, start_runtime, tmp_path):
    pidfile = tmp_path / "djq.pid"
    options = {"supervisor_pidfile": str(pidfile)}
    first = start_runtime(options=options)
    first.wait_ready("worker")
    assert pidfile.read_text().strip() == str(first.pid)

    # Only warnings from the runtime log, so that stderr holds nothing but the error.
    second = start_runtime(options=options, env={"DJQ_TEST_LOG": "WARNING"}, name="second")
    assert second.wait_exit(timeout=30) == 1
    lines = second.stderr().splitlines()
    assert len(lines) == 1, lines
    assert str(pidfile) in lines[0] and str(first.pid) in lines[0]
    assert lines[0].startswith("djq: error:")
    assert "Traceback" not in second.log()

    assert first.alive()
    assert first.kinds()["supervisor"] == 1
    assert first.stop() == 0
    assert not pidfile.exists()
