"""`djq recurring ...` on every vendor: static tasks from settings, dynamic ones, the operator verbs."""

from __future__ import annotations

import copy
import json

import pytest


@pytest.fixture
def static(alias):
    """One recurring task as if configured in settings (synced the way the scheduler does)."""
    from djq.config import RecurringTaskConfig
    from djq.engine.recurring import sync_static

    sync_static(alias, alias, [RecurringTaskConfig(key="nightly", task_path="tests.tasks.add", schedule="0 3 * * *",
                                                   args=(1, 2), description="adds")])
    return "nightly"


@pytest.fixture
def dynamic(alias):
    """Dynamic recurring tasks switched on for the test's backend."""
    from django.conf import settings
    from django.test import override_settings

    tasks = copy.deepcopy(settings.TASKS)
    tasks[alias]["OPTIONS"]["scheduler"] = {"dynamic_tasks_enabled": True}
    with override_settings(TASKS=tasks):
        yield


def test_list_and_show(alias, cli, static):
    [row] = [line.split("\t") for line in cli("recurring", "list").stdout.splitlines()]
    assert row[:3] == ["nightly", "tests.tasks.add", "0 3 * * *"]
    assert row[5:] == ["default", "no", "settings"]

    fields = dict(line.split("\t", 1) for line in cli("recurring", "show", "nightly").stdout.splitlines())
    assert fields["args"] == "[1, 2]" and fields["from"] == "settings" and fields["runs"].startswith("At 03:00")

    [doc] = json.loads(cli("recurring", "list", json=True).stdout)
    assert doc["key"] == "nightly" and doc["static"] is True and doc["next_run_at"].endswith("03:00:00+00:00")


def test_list_on_a_terminal(alias, cli, static, terminal):
    run = cli("recurring", "list")
    assert "Key" in run.stdout.splitlines()[0] and "nightly" in run.stdout


def test_unknown_key(alias, cli):
    for verb in ("show", "pause", "resume", "run"):
        run = cli("recurring", verb, "nope")
        assert run.exit_code == 1, verb
        assert run.stderr == f"djq: error: no recurring task 'nope' in backend '{alias}'\n"
    assert cli("recurring", "unschedule", "nope", "--yes").exit_code == 1


def test_pause_and_resume_are_idempotent(alias, cli, static):
    assert (cli("recurring", "pause", "nightly").stderr) == "paused nightly\n"
    again = cli("recurring", "pause", "nightly")
    assert (again.exit_code, again.stderr) == (0, "nightly is already paused\n")
    assert json.loads(cli("recurring", "show", "nightly", json=True).stdout)["paused"] is True
    assert cli("recurring", "resume", "nightly").stderr == "resumed nightly\n"
    [change] = json.loads(cli("recurring", "resume", "nightly", json=True).stdout)
    assert change == {"name": "nightly", "changed": False, "message": "nightly is already active"}


def test_run_now_enqueues_a_job(alias, cli, static):
    run = cli("recurring", "run", "nightly")

    assert run.exit_code == 0
    job = json.loads(cli("jobs", "show", run.stdout.strip(), json=True).stdout)
    assert job["recurring_key"] == "nightly" and job["args"] == [1, 2]


def test_schedule_needs_dynamic_tasks(alias, cli):
    run = cli("recurring", "schedule", "k", "--task", "tests.tasks.add", "--schedule", "@hourly")
    assert run.exit_code == 1
    assert "dynamic recurring tasks are off" in run.stderr


def test_schedule_and_unschedule(alias, cli, dynamic):
    run = cli("recurring", "schedule", "sum", "--task", "tests.tasks.add", "--schedule", "*/5 * * * *",
              "--args", "[2, 3]", "--queue", "reports", "--priority", "5", "--description", "sums")
    assert run.exit_code == 0, run.stderr
    assert run.stderr.startswith("scheduled sum: Every 5 minutes; next run ")
    info = json.loads(cli("recurring", "show", "sum", json=True).stdout)
    assert (info["args"], info["queue_name"], info["priority"], info["static"]) == ([2, 3], "reports", 5, False)

    refused = cli("recurring", "unschedule", "sum")
    assert (refused.exit_code, refused.stderr) == (
        2, "djq: error: refusing to unschedule sum without --yes when not on a terminal\n")

    done = cli("recurring", "unschedule", "sum", "--yes", json=True)
    assert json.loads(done.stdout) == {"key": "sum", "unscheduled": True}
    assert cli("recurring", "show", "sum").exit_code == 1


def test_schedule_rejects_bad_input(alias, cli, dynamic):
    bad_json = cli("recurring", "schedule", "k", "--task", "tests.tasks.add", "--schedule", "@hourly",
                   "--args", "[1,")
    assert (bad_json.exit_code, len(bad_json.stderr.splitlines())) == (2, 1)
    assert bad_json.stderr.startswith("djq: error: --args: not valid JSON")

    bad_cron = cli("recurring", "schedule", "k", "--task", "tests.tasks.add", "--schedule", "61 * * * *")
    assert bad_cron.exit_code == 1
    assert bad_cron.stderr.startswith("djq: error: configuration error: invalid cron schedule '61 * * * *'")


def test_unschedule_refuses_static_tasks(alias, cli, static):
    run = cli("recurring", "unschedule", "nightly", "--yes")
    assert run.exit_code == 1
    assert "comes from settings" in run.stderr


def test_unschedule_asks_on_a_terminal(alias, cli, dynamic, terminal):
    cli("recurring", "schedule", "sum", "--task", "tests.tasks.add", "--schedule", "@daily")

    run = cli("recurring", "unschedule", "sum", input="y\n")

    assert run.exit_code == 0
    assert "Unschedule 'sum' (tests.tasks.add, @daily)? [y/N]" in run.stderr
    assert run.stderr.endswith("unscheduled sum\n")
