"""PostgreSQL only: LISTEN/NOTIFY wake-ups, and connections that outlive jobs."""

from __future__ import annotations

import json
import os
import threading
import uuid

import psycopg
import pytest
from django.db import connections

from tests import tasks
from tests.runtime import tasks as runtime_tasks
from tests.runtime.harness import wait_for_states, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.vendors("postgresql")]

#: With LISTEN working, a job starts at once; the poll would take up to this long.
SLOW_POLL = {"workers": [{"queues": ["*"], "threads": 2, "polling_interval": 5}], "listen_notify": True}


def listener_pids(alias: str) -> list[int]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                       " AND query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()")
        return [row[0] for row in cursor.fetchall()]


def assert_woken_promptly(alias, backend, runtime) -> None:
    """One job to settle the worker after its last claim, then one that only a NOTIFY can start in time."""
    settle = tasks.add.using(backend=alias).enqueue(1, 1)
    wait_for_states(alias, [settle.id], ("finished",), runtime=runtime)
    # The worker claimed `settle` moments ago, so its next poll is ~5 s away.
    job = tasks.add.using(backend=alias).enqueue(2, 2)
    wait_for_states(alias, [job.id], ("finished",), timeout=10, runtime=runtime)
    result = backend.get_result(job.id)
    waited = (result.started_at - result.enqueued_at).total_seconds()
    assert waited < 2.5, f"the job waited {waited:.2f}s: woken by the poll, not by NOTIFY"


def test_notify_wakes_workers_and_listen_reconnects(alias, backend, start_runtime):
    runtime = start_runtime(options=SLOW_POLL)
    runtime.wait_ready("worker")
    [first] = wait_until(lambda: listener_pids(alias), 15, "the LISTEN connection")
    assert_woken_promptly(alias, backend, runtime)
    assert_woken_promptly(alias, backend, runtime)

    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()")
        assert cursor.fetchall() == [(True,)]
    runtime.wait_for_log("LISTEN connection lost")
    runtime.wait_for_log("LISTEN connection restored")
    wait_until(lambda: [p for p in listener_pids(alias) if p != first], 15, "a new LISTEN connection")
    assert_woken_promptly(alias, backend, runtime)
    assert runtime.stop() == 0


def test_runtime_keeps_its_connections(alias, backend, start_runtime):
    """CONN_MAX_AGE is 0, yet 60 jobs (each querying the database) reuse the runtime's connections."""
    app = f"djq-e2e-{uuid.uuid4().hex[:8]}"
    databases = json.loads(os.environ["DJQ_TEST_DATABASES"])
    settings = databases[alias]
    databases[alias] = {**settings, "OPTIONS": {**settings.get("OPTIONS", {}), "application_name": app}}
    runtime = start_runtime(databases=databases)
    runtime.wait_ready("worker", "dispatcher", "scheduler")

    seen: set[tuple[int, object]] = set()
    done = threading.Event()

    def sample() -> None:
        with psycopg.connect(host=settings["HOST"], port=settings["PORT"], user=settings["USER"],
                             password=settings["PASSWORD"] or None, dbname=settings["NAME"],
                             autocommit=True) as conn:
            while not done.is_set():
                rows = conn.execute("SELECT pid, backend_start FROM pg_stat_activity"
                                    " WHERE datname = current_database() AND application_name = %s", [app])
                seen.update(rows.fetchall())
                done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        # Supervisor, worker, its LISTEN connection, dispatcher, scheduler.
        wait_until(lambda: len(seen) >= 5, 10, "the runtime's connections in pg_stat_activity")
        before = set(seen)
        jobs = [runtime_tasks.query.using(backend=alias).enqueue(alias) for _ in range(60)]
        wait_for_states(alias, [j.id for j in jobs], ("finished",), runtime=runtime)
        assert all(backend.get_result(j.id).return_value == 1 for j in jobs)
    finally:
        done.set()
        sampler.join(5)
    # The same five, plus one per task thread (2).
    assert len(seen) <= 7, f"{len(seen)} connections for 60 jobs: {sorted(seen)}"
    assert len(seen - before) <= 2, "only the task threads' own connections are new"
    assert runtime.stop() == 0
