"""The database goes away for a few seconds mid-run: the runtime rides it out and loses nothing.

The runtime reaches the server through a ``TcpProxy`` that the test cuts and
restores; the test process itself keeps talking to the server directly.
SQLite is a file, so it has no outage to simulate.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.tasks.base import TaskResultStatus
from django.utils import timezone

from tests import tasks
from tests.runtime.harness import read_records, wait_for_states, wait_until
from tests.runtime.proxy import TcpProxy

pytestmark = [pytest.mark.e2e, pytest.mark.vendors("postgresql", "mysql")]

OUTAGE_SECONDS = 3.0


@pytest.fixture
def proxy(alias):
    real = json.loads(os.environ["DJQ_TEST_DATABASES"])[alias]
    with TcpProxy(real["HOST"], real["PORT"]) as proxy:
        yield proxy


def test_runtime_survives_a_database_outage(alias, backend, start_runtime, proxy, tmp_path):
    databases = json.loads(os.environ["DJQ_TEST_DATABASES"])
    databases[alias] = {**databases[alias], "HOST": "127.0.0.1", "PORT": str(proxy.port)}
    # Heartbeats stop during the outage; an alive threshold shorter than the
    # outage would (rightly) declare every process dead.
    runtime = start_runtime(databases=databases, options={"process_alive_threshold": 20})
    runtime.wait_ready("worker", "dispatcher", "scheduler")
    path = str(tmp_path / "records.txt")
    record = tasks.record.using(backend=alias)

    before = [record.enqueue(path, f"before-{i}", 0.1) for i in range(16)]
    wait_until(lambda: len(read_records(path)) >= 4, 15, "the first jobs to run")

    proxy.cut()
    cut_at = time.monotonic()
    during = [record.enqueue(path, f"during-{i}", 0.05) for i in range(6)]
    due = timezone.now() + timedelta(seconds=1)
    scheduled = tasks.record.using(backend=alias, run_after=due).enqueue(path, "scheduled")
    runtime.wait_for_log("lost the database", timeout=OUTAGE_SECONDS + 5)
    # The outage itself lasts a fixed time: that is the scenario, not a wait for a condition.
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - cut_at)))
    assert runtime.alive()
    assert proxy.open_connections == 0
    proxy.restore()

    after = [record.enqueue(path, f"after-{i}", 0.0) for i in range(4)]
    jobs = [*before, *during, scheduled, *after]
    wait_for_states(alias, [j.id for j in jobs], ("finished",), timeout=30, runtime=runtime)
    runtime.wait_for_log("reconnected to the database")

    records = read_records(path)
    starts = Counter(r.token for r in records if r.event == "start")
    ends = Counter(r.token for r in records if r.event == "end")
    tokens = [j.args[1] for j in jobs]
    assert {t: (starts[t], ends[t]) for t in tokens} == {t: (1, 1) for t in tokens}
    assert sum(starts.values()) == len(tokens)
    for job in jobs:
        result = backend.get_result(job.id)
        assert result.status == TaskResultStatus.SUCCESSFUL and result.attempts == 1, result
    assert backend.get_result(scheduled.id).started_at >= due

    assert runtime.alive()
    assert sorted(runtime.kinds()) == ["dispatcher", "scheduler", "supervisor", "worker"]
    assert runtime.stop() == 0
    assert "Traceback" not in runtime.log()
