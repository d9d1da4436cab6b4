"""`djq prune`, `health`, `processes`, `semaphores`, `status`, `stats` on every vendor; `config` and `check`."""

from __future__ import annotations

import copy
import json

import pytest
from django.conf import settings
from django.test import override_settings

from tests.cli.conftest import enqueue, failed_jobs, register_process, work


@pytest.fixture
def options(alias):
    """``options(clear_failed_jobs_after=...)``: change the test backend's OPTIONS for the test."""
    stack = []

    def change(**values):
        tasks = copy.deepcopy(settings.TASKS)
        tasks[alias]["OPTIONS"].update(values)
        override = override_settings(TASKS=tasks)
        override.enable()
        stack.append(override)

    yield change
    for override in reversed(stack):
        override.disable()


def _finished(alias: str, n: int, task=None) -> list[int]:
    ids = [enqueue(alias, task, 1, 1) if task else enqueue(alias) for _ in range(n)]
    work(alias)
    return ids


def _job_ids(cli) -> set[int]:
    return {row["id"] for row in json.loads(cli("jobs", "list", "--limit", "500", json=True).stdout)}


# -- prune -----------------------------------------------------------------------


def test_prune_is_silent_and_idempotent(alias, cli):
    finished = _finished(alias, 2)
    failed = failed_jobs(alias, 1)

    run = cli("prune", "--older-than", "0", "--failed-older-than", "0")

    assert (run.exit_code, run.stdout, run.stderr) == (0, "", "")
    assert not _job_ids(cli) & set(finished + failed)
    again = cli("prune", "--older-than", "0")
    assert (again.exit_code, again.stdout, again.stderr) == (0, "", "")


def test_prune_verbose_and_json(alias, cli):
    _finished(alias, 2)
    failed_jobs(alias, 1)

    verbose = cli("prune", "--older-than", "0s", "-v")
    assert verbose.stdout == ""
    assert verbose.stderr == ("deleted 2 finished or discarded jobs (older than 0 seconds); "
                              "no failed jobs (kept: no retention set); "
                              "no recurring executions (kept: no retention set); 1 batch\n")

    doc = json.loads(cli("prune", "--failed-older-than", "0", json=True).stdout)
    assert (doc["finished"], doc["failed"], doc["total"], doc["dry_run"]) == (0, 1, 1, False)
    assert doc["older_than"] == {"finished": 86400, "failed": 0, "recurring_executions": None}


def test_prune_defaults_come_from_the_backend_config(alias, cli, options):
    job = _finished(alias, 1)[0]
    options(clear_finished_jobs_after=0.001, clear_failed_jobs_after=7 * 86400)

    doc = json.loads(cli("prune", "--dry-run", json=True).stdout)
    assert doc["older_than"] == {"finished": 0.001, "failed": 604800, "recurring_executions": None}
    assert (doc["finished"], doc["dry_run"]) == (1, True)
    assert job in _job_ids(cli)

    assert cli("prune").stderr == ""
    assert job not in _job_ids(cli)


def test_prune_dry_run_reports_without_deleting(alias, cli):
    jobs = _finished(alias, 3)

    run = cli("prune", "--older-than", "0", "--dry-run")

    assert run.exit_code == 0 and run.stdout == ""
    assert run.stderr.startswith("dry run: would delete 3 finished or discarded jobs")
    assert set(jobs) <= _job_ids(cli)


def test_prune_in_bounded_batches_says_when_more_remain(alias, cli):
    _finished(alias, 5)

    first = cli("prune", "--older-than", "0", "--batch-size", "2", "--max-batches", "1")

    assert first.exit_code == 0 and first.stdout == ""
    assert first.stderr == ("djq prune: stopped after 1 batches of 2 with more rows left; the next run goes on "
                            "(or raise --max-batches)\n")
    assert len(_job_ids(cli)) == 3
    rest = cli("prune", "--older-than", "0", "--batch-size", "2", "--max-batches", "5", json=True)
    assert json.loads(rest.stdout)["finished"] == 3 and rest.stderr == ""
    assert _job_ids(cli) == set()


def test_prune_by_task_path(alias, cli):
    from tests import tasks

    adds = _finished(alias, 2)
    echoes = _finished(alias, 1, task=tasks.echo)

    cli("prune", "--older-than", "0", "--task-path", "tests.tasks.echo")

    assert _job_ids(cli) == set(adds)
    assert not set(echoes) & _job_ids(cli)


def test_prune_recurring_executions_by_key(alias, cli, backend):
    from datetime import timedelta

    from django.utils import timezone

    from djq.config import RecurringTaskConfig
    from djq.engine.recurring import due_tasks, fire, sync_static

    sync_static(alias, alias, [RecurringTaskConfig(key=k, task_path="tests.tasks.add", schedule="@hourly",
                                                   args=(1, 2)) for k in ("a", "b")])
    for row in due_tasks(alias, alias, timezone.now() + timedelta(days=1), dynamic=False):
        fire(backend, row, timezone.now(), slot=row.next_run_at)

    doc = json.loads(cli("prune", "--recurring-older-than", "0", "--task-key", "a", json=True).stdout)
    assert doc["recurring_executions"] == 1
    doc = json.loads(cli("prune", "--recurring-older-than", "0", json=True).stdout)
    assert doc["recurring_executions"] == 1


def test_prune_bad_duration_is_a_usage_error(alias, cli):
    run = cli("prune", "--older-than", "a week")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == ("djq: error: --older-than: expected a duration like 90s, 15m, 2h or 7d, "
                          "got 'a week'\n")


# -- health and processes ------------------------------------------------------------


def test_health_without_processes_is_unhealthy(alias, cli):
    run = cli("health")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == f"djq: unhealthy: no djq process is registered for backend '{alias}'\n"


def test_health_with_a_live_worker(alias, cli):
    register_process(alias, "supervisor")
    register_process(alias, "worker")

    run = cli("health")
    assert (run.exit_code, run.stdout, run.stderr) == (0, "", "")
    assert cli("-v", "health").stderr == "healthy: 1 supervisor, 1 worker\n"
    doc = json.loads(cli("health", json=True).stdout)
    assert doc["healthy"] is True and doc["live"] == {"supervisor": 1, "worker": 1}

    stale = cli("health", "--max-age", "0")
    assert stale.exit_code == 1
    assert stale.stderr == "djq: unhealthy: no djq process has sent a heartbeat in the last 0s\n"


def test_health_needs_a_worker(alias, cli):
    register_process(alias, "dispatcher")

    run = cli("health", json=True)

    assert run.exit_code == 1
    assert json.loads(run.stdout)["reason"] == f"no live worker for backend '{alias}'"


def test_processes_list(alias, cli):
    supervisor = register_process(alias, "supervisor", "supervisor-1")
    register_process(alias, "worker", "worker-1")

    rows = [line.split("\t") for line in cli("processes", "list").stdout.splitlines()]
    assert [(r[1], r[2], r[7]) for r in rows] == [("supervisor", "supervisor-1", "yes"), ("worker", "worker-1", "yes")]
    assert int(rows[0][0]) == supervisor
    doc = json.loads(cli("processes", "list", json=True).stdout)
    assert {p["kind"] for p in doc} == {"supervisor", "worker"} and all(p["alive"] for p in doc)


# -- semaphores, status, stats -----------------------------------------------------------


def test_semaphores_list(alias, cli):
    from tests.engine.tasks_extra import one_per_account

    enqueue(alias, one_per_account, 7)
    enqueue(alias, one_per_account, 7)

    [row] = [line.split("\t") for line in cli("semaphores", "list").stdout.splitlines()]
    assert row[:5] == ["account:7", "0", "1", "1", "1"]
    [doc] = json.loads(cli("semaphores", "list", json=True).stdout)
    assert (doc["key"], doc["holders"], doc["blocked"]) == ("account:7", 1, 1)


def test_status(alias, cli):
    from tests.engine.tasks_extra import one_per_account

    failed_jobs(alias, 1, queue="emails")
    enqueue(alias)
    enqueue(alias, one_per_account, 1)
    register_process(alias, "worker")

    lines = [line.split("\t") for line in cli("status").stdout.splitlines()]
    assert lines[0][:8] == ["queue", "default", "2", "0", "0", "0", "0", "no"]
    assert lines[1][:8] == ["queue", "emails", "0", "0", "0", "0", "1", "no"]
    assert ["jobs", "failed", "1"] in lines and ["process", "worker", "1", "0"] in lines
    assert ["recurring", "0", "0", "", ""] in lines
    assert [r[:2] for r in lines if r[0] == "semaphore"] == [["semaphore", "account:1"]]

    doc = json.loads(cli("status", json=True).stdout)
    assert doc["totals"]["ready"] == 2 and doc["processes"] == {"worker": {"live": 1, "stale": 0}}
    assert [q["name"] for q in doc["queues"]] == ["default", "emails"]


def test_status_on_a_terminal(alias, cli, terminal):
    enqueue(alias)
    register_process(alias, "worker")

    out = cli("status").stdout

    assert f"djq backend {alias}" in out and "Queue" in out
    assert "Jobs        1 ready, 0 scheduled, 0 running, 0 blocked, 0 failed" in out
    assert "Processes   1 worker" in out and "Semaphores  none in use" in out


def test_stats_is_json(alias, cli):
    failed_jobs(alias, 1)
    enqueue(alias)

    run = cli("stats")

    doc = json.loads(run.stdout)
    assert doc["backend_alias"] == alias and doc["totals"]["failed"] == 1 and doc["totals"]["ready"] == 1
    assert doc["failed_last_minute"] == 1 and {"queues", "processes", "recurring", "semaphores"} <= set(doc)


# -- config and check (no queue data) ----------------------------------------------------------


@pytest.mark.vendors("sqlite")
def test_config_show_names_sources(alias, cli, tmp_path):
    overlay = tmp_path / "djq.yml"
    overlay.write_text("process_alive_threshold: 99\n")

    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in
            cli("config", "show", "--config", str(overlay)).stdout.splitlines()}
    assert rows["process_alive_threshold"] == ["99", "yaml"]
    assert rows["process_heartbeat_interval"] == ["1", "settings"]
    assert rows["shutdown_timeout"] == ["5", "settings"]
    assert rows["mode"] == ['"fork"', "default"]

    doc = json.loads(cli("config", "show", json=True).stdout)
    assert doc["backend"] == alias and doc["options"]["database_alias"] == alias
    assert doc["sources"]["database_alias"] == "settings" and doc["sources"]["mode"] == "default"


@pytest.mark.vendors("sqlite")
def test_config_show_on_a_terminal(alias, cli, terminal):
    out = cli("config", "show").stdout
    assert "Option" in out and "Source" in out and "process_heartbeat_interval" in out


@pytest.mark.vendors("sqlite")
def test_config_show_bad_yaml_fails_in_one_line(alias, cli, tmp_path):
    overlay = tmp_path / "djq.yml"
    overlay.write_text("threads: [\n")

    run = cli("config", "show", "--config", str(overlay))

    assert run.exit_code == 1 and len(run.stderr.splitlines()) == 1
    assert run.stderr.startswith("djq: error: configuration error: ") and "invalid YAML" in run.stderr


@pytest.mark.vendors("sqlite")
def test_check_passes(alias, cli):
    run = cli("check")
    assert (run.exit_code, run.stdout, run.stderr) == (0, "", "djq check: no problems found\n")
    assert json.loads(cli("check", json=True).stdout) == {"ok": True, "problems": []}


@pytest.mark.vendors("sqlite")
def test_check_lists_every_problem(alias, cli, tmp_path):
    overlay = tmp_path / "djq.yml"
    overlay.write_text("proces_alive_threshold: 5\nworkers:\n  - threads: lots\n"
                       "recurring:\n  nightly:\n    task_path: tests.tasks.add\n    schedule: '61 * * * *'\n")

    run = cli("check", "--config", str(overlay))

    assert run.exit_code == 1 and run.stdout == ""
    lines = run.stderr.splitlines()
    assert lines[-1] == f"djq check: {len(lines) - 1} problems found"
    assert len(lines) - 1 >= 3 * len(settings.TASKS)  # every alias reads the flat overlay
    text = run.stderr
    assert "did you mean 'process_alive_threshold'" in text and "threads" in text and "61 * * * *" in text
