"""The read commands through the real ``djq`` entry point: pages and cursors, counts, status and stats."""

from __future__ import annotations

import json
import re

from djq.ops.pages import Count
from djq_cli.context import _plain, to_jsonable
from tests.cli.conftest import enqueue, failed_jobs, register_process, run_djq, run_in_pty


def ids(run) -> list[int]:
    return [int(line.split("\t")[0]) for line in run.stdout.splitlines()]


def test_jobs_list_pages_with_cursors_both_ways(alias):
    failed = sorted(failed_jobs(alias, 5, queue="emails"), reverse=True)  # one finish: newest first is by id

    screen = run_in_pty("--backend", alias, "jobs", "list", "--state", "failed", "--limit", "2")
    assert screen.exit_code == 0, screen.stdout
    line = re.search(r"5 jobs match; showing 2; next page: --after (\S+)", screen.stdout)
    assert line, screen.stdout
    second = run_djq("--backend", alias, "jobs", "list", "--state", "failed", "--limit", "2", "--after", line[1])
    assert (second.exit_code, ids(second), second.stderr) == (0, failed[2:4], "")
    last = run_djq("--backend", alias, "jobs", "list", "--state", "failed", "--limit", "2", "--after",
                   _cursor(alias, failed[3]))
    assert ids(last) == failed[4:]
    back = run_djq("--backend", alias, "jobs", "list", "--state", "failed", "--limit", "2", "--before",
                   _cursor(alias, failed[2]))
    assert ids(back) == failed[:2]
    bad = run_djq("--backend", alias, "jobs", "list", "--state", "failed", "--after", "ready.1.2")
    assert bad.exit_code == 2 and bad.stderr.startswith("djq: error: --after: 'ready.1.2' is not a cursor")


def _cursor(alias: str, job_id: int) -> str:
    """The cursor pointing at one failed job, as the page that ends with it hands out."""
    from djq.ops.jobs import job_page

    page = job_page(alias, "failed", limit=1)
    while page.rows[0].id != job_id:
        page = job_page(alias, "failed", limit=1, after=page.next_cursor)
    return page.next_cursor


def test_jobs_list_filters_by_error_text(alias):
    failed_jobs(alias, 1, message="disk full")
    failed_jobs(alias, 2, message="network down")

    run = run_djq("--backend", alias, "jobs", "list", "--state", "failed", "--text", "NETWORK")

    assert run.exit_code == 0 and len(ids(run)) == 2
    assert {line.split("\t")[-1] for line in run.stdout.splitlines()} == {"ValueError: network down"}


def test_capped_counts_print_with_a_plus():
    capped, exact = Count.of(10_001), Count.of(42)
    assert (str(capped), _plain(capped), to_jsonable(capped)) == ("10,000+", "10000+", "10000+")
    assert (str(exact), _plain(exact), to_jsonable(exact)) == ("42", "42", 42)


def test_status_and_stats_come_from_the_snapshot(alias):
    failed_jobs(alias, 1, queue="emails")
    enqueue(alias)
    register_process(alias, "worker")

    status = run_djq("--backend", alias, "status")
    lines = [line.split("\t") for line in status.stdout.splitlines()]
    assert status.exit_code == 0, status.stderr
    assert ["jobs", "ready", "1"] in lines and ["jobs", "failed", "1"] in lines
    assert ["jobs", "failed_last_minute", "1"] in lines and ["process", "worker", "1", "0"] in lines

    stats = run_djq("--backend", alias, "stats")
    doc = json.loads(stats.stdout)
    assert doc["totals"]["finished"] == 0 and doc["totals"]["failed"] == 1
    assert len(doc["overview"]["throughput"]) == 60 and sum(p["failed"] for p in doc["overview"]["throughput"]) == 1
    assert [(t["queue_name"], t["failed"], t["runs"]) for t in doc["throughput"]] == [("emails", 1, 1)]
    assert [q["name"] for q in doc["queues"]] == ["default", "emails"]

    queues = run_djq("--backend", alias, "--json", "queues", "list")
    assert [(q["name"], q["ready"], q["failed"]) for q in json.loads(queues.stdout)] == \
        [("default", 1, 0), ("emails", 0, 1)]
