"""``stats.json`` and ``metrics`` over HTTP from a real server process, on every vendor."""

from __future__ import annotations

import json

import pytest

from tests.web.conftest import TOKEN, start_server, stop_server
from tests.web.data import seed


def samples(text: str) -> dict:
    """family name -> list of (sample name, labels, value), parsed by prometheus-client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    return {f.name: [(s.name, s.labels, s.value) for s in f.samples] for f in text_string_to_metric_families(text)}


def value(families: dict, family: str, sample: str | None = None, **labels) -> float:
    found = [v for name, lab, v in families[family]
             if (sample is None or name == sample) and all(lab.get(k) == str(x) for k, x in labels.items())]
    assert len(found) == 1, (family, labels, families[family])
    return found[0]


def test_metrics_families_labels_and_values(alias, server):
    seeded = seed(alias)
    status, headers, body = server.get(f"/djq/metrics?backend={alias}", token=TOKEN)
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/plain")
    fam = samples(body)
    expected = {
        "djq_queue_jobs": {"backend", "queue", "state"}, "djq_queue_paused": {"backend", "queue"},
        "djq_queue_latency_seconds": {"backend", "queue"}, "djq_queue_live_workers": {"backend", "queue"},
        "djq_runner_processes": {"backend", "status"},
        "djq_runner_processes_by_kind": {"backend", "kind", "status"},
        "djq_recurring_tasks": {"backend"}, "djq_semaphores": {"queue_database"}, "djq_process_rows": {"backend"},
    }
    for name, labels in expected.items():
        assert fam.get(name), f"{name} missing from the scrape"
        assert all(set(lab) == labels for _, lab, _ in fam[name]), (name, fam[name])
    assert value(fam, "djq_queue_jobs", backend=alias, queue="email", state="ready") == len(seeded.ready_email)
    assert value(fam, "djq_queue_jobs", backend=alias, queue="email", state="failed") == len(seeded.failed_email)
    assert value(fam, "djq_queue_jobs", backend=alias, queue="reports", state="failed") == 1
    assert value(fam, "djq_queue_jobs", backend=alias, queue="default", state="scheduled") == 1
    assert value(fam, "djq_queue_paused", backend=alias, queue="reports") == 1
    assert value(fam, "djq_queue_paused", backend=alias, queue="email") == 0
    assert value(fam, "djq_queue_latency_seconds", backend=alias, queue="email") > 0
    assert value(fam, "djq_queue_live_workers", backend=alias, queue="email") == 1
    assert value(fam, "djq_runner_processes", backend=alias, status="alive") == 2
    assert value(fam, "djq_runner_processes", backend=alias, status="stale") == 0
    assert value(fam, "djq_runner_processes_by_kind", backend=alias, kind="worker", status="alive") == 1
    assert value(fam, "djq_runner_processes_by_kind", backend=alias, kind="dispatcher", status="alive") == 1
    assert value(fam, "djq_runner_processes_by_kind", backend=alias, kind="scheduler", status="alive") == 0
    assert value(fam, "djq_recurring_tasks", backend=alias) == 2
    assert value(fam, "djq_semaphores", queue_database=alias) == 1
    assert value(fam, "djq_process_rows", backend=alias) == 2
    # From the per-minute rollup: counters (_total, with _created at the counter period's start) and summaries.
    assert value(fam, "djq_jobs_finished", "djq_jobs_finished_total", backend=alias, queue="default",
                 task="tests.tasks.add") == 3
    assert value(fam, "djq_jobs_failed", "djq_jobs_failed_total", backend=alias, queue="email",
                 task="tests.tasks.fail") == 2
    assert value(fam, "djq_jobs_failed", "djq_jobs_failed_total", backend=alias, queue="reports",
                 task="tests.tasks.fail") == 1
    assert value(fam, "djq_jobs_finished", "djq_jobs_finished_total", backend=alias, queue="email",
                 task="tests.tasks.fail") == 0
    created = value(fam, "djq_jobs_finished_created", backend=alias, queue="default", task="tests.tasks.add")
    assert created % 3600 == 0
    assert value(fam, "djq_job_run_seconds", "djq_job_run_seconds_count", backend=alias, queue="email") == 2
    assert value(fam, "djq_job_run_seconds", "djq_job_run_seconds_sum", backend=alias, queue="email") >= 0
    assert value(fam, "djq_job_pickup_latency_seconds", "djq_job_pickup_latency_seconds_count", backend=alias,
                 queue="default") == 3
    assert value(fam, "djq_job_pickup_latency_seconds", "djq_job_pickup_latency_seconds_sum", backend=alias,
                 queue="default") > 0
    assert {f.split("{")[0] for f in body.splitlines() if f and not f.startswith("#")} >= {
        "djq_jobs_finished_total", "djq_jobs_failed_total", "djq_job_run_seconds_count", "djq_job_run_seconds_sum"}


def test_metrics_cover_every_backend_without_a_filter(alias, server):
    seed(alias)
    status, _, body = server.get("/djq/metrics", token=TOKEN)
    assert status == 200
    backends = {lab["backend"] for _, lab, _ in samples(body)["djq_process_rows"]}
    assert alias in backends and "default" in backends


@pytest.mark.vendors("sqlite")
@pytest.mark.parametrize("path", ["/djq/metrics", "/djq/stats.json"])
def test_token_missing_wrong_and_right(alias, server, path):
    status, headers, body = server.get(path)
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in body
    status, headers, _ = server.get(path, token="not-" + TOKEN)
    assert status == 401 and 'error="invalid_token"' in headers["WWW-Authenticate"]
    status, headers, _ = server.get(path, headers={"Authorization": f"Basic {TOKEN}"})
    assert status == 401
    status, _, _ = server.get(path, token=TOKEN)
    assert status == 200


@pytest.mark.vendors("sqlite")
def test_without_a_token_the_endpoints_are_closed_unless_opened_explicitly(alias):
    closed = start_server(DJQ_TEST_TOKEN="")
    try:
        for path in ("/djq/metrics", "/djq/stats.json"):
            status, headers, body = closed.get(path)
            assert status == 401 and "WWW-Authenticate" in headers
            assert "DJQ_OBSERVABILITY_TOKEN" in body
    finally:
        stop_server(closed)
    public = start_server(DJQ_TEST_TOKEN="", DJQ_TEST_PUBLIC="1")
    try:
        assert public.get("/djq/metrics")[0] == 200
        assert public.get("/djq/stats.json")[0] == 200
    finally:
        stop_server(public)


@pytest.mark.vendors("sqlite")
def test_metrics_without_prometheus_client_answer_501_with_one_line(alias):
    srv = start_server(DJQ_TEST_TOKEN=TOKEN, DJQ_TEST_HIDE_PROMETHEUS="1")
    try:
        status, _, body = srv.get("/djq/metrics", token=TOKEN)
        assert status == 501
        assert body.count("\n") == 1 and 'pip install "djq[prometheus]"' in body
        assert srv.get("/djq/stats.json", token=TOKEN)[0] == 200
    finally:
        stop_server(srv)


@pytest.mark.vendors("sqlite")
def test_an_unknown_backend_is_404(alias, server):
    assert server.get("/djq/metrics?backend=nope", token=TOKEN)[0] == 404
    assert server.get("/djq/stats.json?backend=nope", token=TOKEN)[0] == 404
    assert server.get("/djq/metrics", token=TOKEN, headers={"X-Method": "x"})[0] == 200


#: What changes from one second to the next (and the minute window, which may move between two reads).
VOLATILE = {"generated_at", "heartbeat_age_seconds", "latency_seconds", "oldest_ready_age_seconds", "throughput"}


def _stable(document):
    if isinstance(document, dict):
        return {k: _stable(v) for k, v in document.items() if k not in VOLATILE}
    if isinstance(document, list):
        return [_stable(v) for v in document]
    return document


def test_stats_json_is_the_document_djq_stats_prints(alias, server):
    from tests.cli.conftest import invoke

    seed(alias)
    status, headers, body = server.get(f"/djq/stats.json?backend={alias}", token=TOKEN)
    assert status == 200 and headers["Content-Type"] == "application/json"
    served = json.loads(body)
    from djq.ops.stats import clear_snapshot_cache

    clear_snapshot_cache()  # this process may hold one from before the seeding (up to a second old)
    printed = json.loads(invoke(["--backend", alias, "--json", "stats"]).stdout)
    assert set(served) == set(printed)
    assert _stable(served) == _stable(printed)
    assert served["backend"] == alias and served["schema"] == 1
    assert served["totals"]["failed"] == 3 and served["totals"]["ready"] >= 4
    assert {q["name"]: q["paused"] for q in served["queues"]}["reports"] is True
    assert all("latency_seconds" in q for q in served["queues"])
    assert all("heartbeat_age_seconds" in p for p in served["processes"])
    assert len(served["throughput"]) == 60
    assert sum(p["finished"] for p in served["throughput"]) == 3
    assert sum(p["failed"] for p in served["throughput"]) == 3


@pytest.mark.vendors("sqlite", "postgresql")
def test_a_scrape_issues_the_same_statements_for_ten_jobs_and_for_many(alias):
    """The scrape reads the snapshot and the rollup: its statements do not grow with the jobs."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from djq.ops.stats import clear_snapshot_cache
    from djq.web.metrics import exposition
    from tests import tasks

    def scrape() -> list[str]:
        clear_snapshot_cache()
        with CaptureQueriesContext(connections[alias]) as captured:
            exposition([alias])
        return [q["sql"] for q in captured.captured_queries]

    backend_jobs = tasks.add.using(backend=alias)
    for _ in range(10):
        backend_jobs.enqueue(1, 2)
    few = scrape()
    from django.tasks import task_backends

    task_backends[alias].enqueue_all([(tasks.add, (i, 1), {}) for i in range(2000)])
    many = scrape()
    assert len(few) == len(many)
    assert not [sql for sql in many if "djq_job" in sql and "GROUP BY" in sql.upper() and "LIMIT" not in sql.upper()
                and "blocked" not in sql]
