"""The output and exit-code contract, through real processes where terminals and streams matter.

- no terminal: tab-separated values, destructive commands refuse without --yes (exit 2);
- a terminal (a pseudo-terminal here): Rich tables and prompts;
- failures: one line on stderr, exit 1; usage errors exit 2; a traceback only with -vv;
- ``manage.py djq`` (here ``django-admin djq``) is the same tree.
"""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import (
    DJANGO_ADMIN,
    ROOT,
    enqueue,
    failed_jobs,
    invoke,
    run_djq,
    run_in_pty,
    subprocess_env,
    work,
)

pytestmark = pytest.mark.vendors("sqlite")


def test_piped_listing_and_refusal_without_a_terminal(alias):
    enqueue(alias)

    listing = run_djq("queues", "list")
    refused = run_djq("queues", "clear", "default")

    assert listing.exit_code == 0 and listing.stderr == ""
    assert listing.stdout.split("\t")[:2] == ["default", "1"]
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr == "djq: error: refusing to clear queue default without --yes when not on a terminal\n"


def test_prune_for_cron(alias):
    enqueue(alias)
    work(alias)

    quiet = run_djq("prune", "--older-than", "0")
    broken = run_djq("--backend", "nope", "prune")

    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    assert (broken.exit_code, broken.stdout) == (1, "")
    assert broken.stderr.startswith("djq: error: configuration error: TASKS has no alias 'nope'")
    assert len(broken.stderr.splitlines()) == 1


def test_failures_are_one_line_and_vv_shows_the_traceback(alias, tmp_path):
    empty = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "empty.sqlite3")}}
    env = subprocess_env(DJQ_TEST_DATABASES=json.dumps(empty))

    plain = run_djq("jobs", "list", env=env)
    loud = run_djq("-vv", "jobs", "list", env=env)

    assert (plain.exit_code, plain.stdout) == (1, "")
    fix = "djq's tables are missing or out of date: run `djq migrate`"
    assert plain.stderr == f"djq: error: database error: no such table: djq_job; {fix}\n"
    assert loud.exit_code == 1
    assert loud.stderr.startswith("Traceback (most recent call last):")
    assert loud.stderr.endswith(f"djq: error: database error: no such table: djq_job; {fix}\n")


def test_vv_lets_the_exception_through_in_process(alias):
    from djq.exceptions import JobNotFound

    with pytest.raises(JobNotFound):
        invoke(["-vv", "--backend", alias, "jobs", "show", "424242"])


def test_typer_usage_errors_exit_2(alias, cli):
    assert cli("jobs", "list", "--no-such-option").exit_code == 2
    assert cli("jobs", "list", "--limit", "many").exit_code == 2
    assert cli("jobs", "show").exit_code == 2


def test_a_table_on_a_terminal(alias):
    enqueue(alias)

    run = run_in_pty("queues", "list")

    assert run.exit_code == 0
    header, rule, row = run.stdout.splitlines()[:3]
    assert header.split() == ["Queue", "┃", "Ready", "┃", "Scheduled", "┃", "Running", "┃", "Blocked", "┃", "Failed",
                              "┃", "Paused", "┃", "Latency", "(s)"]
    assert set(rule) <= {"━", "╇"}
    assert row.split()[:4] == ["default", "│", "1", "│"] and "\t" not in run.stdout


def test_a_prompt_on_a_terminal(alias):
    jobs = failed_jobs(alias, 2)

    declined = run_in_pty("jobs", "retry", "--all", answer="n")
    agreed = run_in_pty("jobs", "retry", *map(str, jobs), answer="y")

    assert declined.exit_code == 1
    assert "Retry 2 failed jobs? [y/N]" in declined.stdout and "cancelled, nothing changed" in declined.stdout
    assert agreed.exit_code == 0
    assert f"Retry 2 failed jobs (ids {jobs[0]}, {jobs[1]})? [y/N]" in agreed.stdout
    assert "retried 2 jobs; matched 2, changed 2, skipped 0" in agreed.stdout


def test_manage_py_djq(alias):
    enqueue(alias, queue="emails")
    env = subprocess_env(PYTHONPATH=str(ROOT))

    helped = run_djq("djq", "--help", env=env, program=DJANGO_ADMIN)
    listed = run_djq("djq", "--backend", alias, "queues", "list", env=env, program=DJANGO_ADMIN)

    assert helped.exit_code == 0 and "django-admin djq [OPTIONS] COMMAND" in helped.stdout and "queues" in helped.stdout
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.split("\t")[:2] == ["emails", "1"]
