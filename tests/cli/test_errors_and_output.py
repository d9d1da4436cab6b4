"""Errors are one line with their fix, global options go anywhere, pipes close quietly (issue 9, items 12-18)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.cli.conftest import DJQ, ROOT, enqueue, failed_jobs, run_djq, subprocess_env

pytestmark = pytest.mark.vendors("sqlite")


@pytest.mark.parametrize("argv, message", [
    (["queues", "list", "--jsn"], "djq: error: no such option: --jsn (did you mean --json?) "
                                  "(see `djq queues list -h`)"),
    (["enqueue", "tests.tasks.add", "--priority", "500"], "djq: error: invalid value for '--priority': "),
    (["jobs", "show", "abc"], "djq: error: invalid value for 'job_id': "),
    (["jobs", "lsit"], "djq: error: no such command 'lsit'"),
])
def test_item_12_usage_errors_are_one_line_on_stderr(alias, argv, message):
    run = run_djq(*argv)

    assert run.exit_code == 2
    assert run.stdout == ""
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert run.stderr.startswith(message), run.stderr
    assert "╭" not in run.stderr and "Usage:" not in run.stderr


def test_item_12_global_output_options_work_after_the_command(alias):
    enqueue(alias)

    after = run_djq("--backend", alias, "queues", "list", "--json", "--no-color", "-v")
    before = run_djq("--backend", alias, "--json", "queues", "list")

    assert after.exit_code == 0, after.stderr
    import json

    [row] = json.loads(after.stdout)
    assert row["name"] == "default" and row["ready"] == 1
    assert json.loads(before.stdout)[0]["ready"] == 1


def test_item_12_retry_and_discard_all_take_the_filters_of_jobs_list(alias):
    failed_jobs(alias, 2)

    retried = run_djq("--backend", alias, "jobs", "retry", "--all", "--state", "failed", "--queue", "default",
                      "--dry-run")
    discarded = run_djq("--backend", alias, "jobs", "discard", "--all", "--state", "failed",
                        "--task", "tests.tasks.fail",
                        "--exception", "ValueError", "--older-than", "0", "--dry-run")
    wrong = run_djq("--backend", alias, "jobs", "retry", "--all", "--state", "ready", "--yes")

    assert retried.exit_code == 0, retried.stderr
    assert "matched 2" in retried.stderr
    assert discarded.exit_code == 0, discarded.stderr
    assert "matched 2" in discarded.stderr
    assert wrong.exit_code == 2 and wrong.stderr.startswith("djq: error: --state: unknown state 'ready'")


def test_item_14_a_closed_pipe_exits_quietly(alias, backend):
    from tests import tasks

    backend.enqueue_all([(tasks.add.using(backend=alias), (i, i), {}) for i in range(3000)])

    proc = subprocess.run(f"set -o pipefail; {DJQ} --backend {alias} jobs list --limit 3000 | head -1",
                          shell=True, executable="/bin/bash", cwd=ROOT, env=subprocess_env(), capture_output=True,
                          text=True, timeout=60)

    assert proc.stderr == ""
    assert proc.stdout.count("\n") == 1 and proc.stdout.startswith("id\tqueue_name\t")  # the header line
    assert proc.returncode == 141  # 128 + SIGPIPE, as `yes | head -1` reports


def test_item_15_help_shows_no_type_placeholders_and_examples_fit_80_columns():
    from djq_cli.main import app
    from tests.cli.test_help import PATHS

    env = subprocess_env(COLUMNS="80")
    driver = (
        "import contextlib, io, json, sys\n"
        "from djq_cli.main import main\n"
        "out = {}\n"
        "for path in json.load(sys.stdin):\n"
        "    buf = io.StringIO()\n"
        "    with contextlib.redirect_stdout(buf):\n"
        "        main([*path, '--help'])\n"
        "    out[' '.join(path)] = buf.getvalue()\n"
        "sys.__stdout__.write(json.dumps(out))\n"
    )
    import json
    import sys

    proc = subprocess.run([sys.executable, "-c", driver], input=json.dumps([[], *PATHS]), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    helps = json.loads(proc.stdout)
    from typer.main import get_command

    tree = get_command(app)
    for path, text in helps.items():
        assert "<bool>" not in text and "<int>" not in text and "<str>" not in text, path
        assert "<list[" not in text and "<int range>" not in text, path
        command = tree
        for name in path.split():
            command = command.commands[name]
        examples = (command.help or "").split("Examples:", 1)[-1]
        for line in examples.splitlines():
            line = line.strip()
            if line.startswith(("djq ", "DJQ_")):
                assert line in text, f"`djq {path} --help` wraps the example {line!r} at 80 columns"


def test_item_16_jobs_show_on_a_terminal_shows_the_last_traceback_and_all_with_v(alias, backend):
    from djq.api import retry_failed_job
    from tests.cli.conftest import run_in_pty, work

    [job_id] = failed_jobs(alias, 1, message="first try")
    retry_failed_job(job_id, backend_alias=alias)
    work(alias)

    shown = run_in_pty("--backend", alias, "jobs", "show", str(job_id))
    everything = run_in_pty("--backend", alias, "jobs", "show", str(job_id), "-v")

    assert shown.exit_code == 0, shown.stdout
    assert "Traceback (most recent call last):" in shown.stdout
    assert 'raise ValueError(message)' in shown.stdout
    assert shown.stdout.count("Traceback (most recent call last):") == 1
    assert everything.stdout.count("Traceback (most recent call last):") == 2


def test_item_17_jobs_show_piped_has_no_duplicate_keys(alias):
    [job_id] = failed_jobs(alias, 1)

    run = run_djq("--backend", alias, "jobs", "show", str(job_id))

    keys = [line.split("\t", 1)[0] for line in run.stdout.splitlines()]
    fields = [k for k in keys if k != "attempt"]
    assert len(fields) == len(set(fields)), keys
    assert keys.count("attempt") == 1 and "attempts" in keys


@pytest.mark.parametrize("case", ["unmigrated", "mysql-driver", "bad-url", "settings"])
def test_item_13_errors_carry_their_fix(alias, tmp_path, case):
    base = subprocess_env(DJANGO_SETTINGS_MODULE=None, DJQ_TEST_DATABASES=None, PYTHONPATH=None)
    if case == "unmigrated":
        run = run_djq("--database-url", f"sqlite:///{tmp_path}/empty.sqlite3", "jobs", "list", env=base, cwd=tmp_path)
        expected = ("djq: error: database error: no such table: djq_job; djq's tables are missing or out of date: "
                    "run `djq migrate`\n")
    elif case == "mysql-driver":
        (tmp_path / "MySQLdb").mkdir()
        (tmp_path / "MySQLdb" / "__init__.py").write_text("raise ImportError('No module named MySQLdb')\n")
        run = run_djq("--database-url", "mysql://root@127.0.0.1:3306/x", "jobs", "list",
                      env={**base, "PYTHONPATH": str(tmp_path)}, cwd=tmp_path)
        expected = ('djq: error: configuration error: Error loading MySQLdb module; install the MySQL/MariaDB '
                    'driver: pip install "djq[mysql]"\n')
    elif case == "bad-url":
        run = run_djq("--database-url", "localhost/queue", "jobs", "list", env=base, cwd=tmp_path)
        expected = ("djq: error: configuration error: --database-url 'localhost/queue' is not a database URL "
                    "(Scheme '://' is unknown); it looks like postgres://USER:PASSWORD@HOST:5432/NAME, "
                    "mysql://USER@HOST:3306/NAME or sqlite:////absolute/path.db\n")
    else:
        run = run_djq("--settings", "mysite.settings", "jobs", "list", env=base, cwd=tmp_path)
        expected = (f"djq: error: configuration error: settings module 'mysite.settings' does not import (no module "
                    f"named 'mysite') from the current directory ({tmp_path}); give the directory that holds the "
                    "project with --pythonpath\n")
    assert (run.exit_code, run.stdout, run.stderr) == (1, "", expected)


def test_item_17_jobs_list_on_a_terminal_shows_priority_and_when_scheduled_jobs_run(alias, cli, terminal):
    from datetime import timedelta

    from django.utils import timezone

    from tests import tasks

    tasks.add.using(backend=alias, priority=7, run_after=timezone.now() + timedelta(hours=2)).enqueue(1, 2)

    run = cli("jobs", "list")

    header = run.stdout.splitlines()[0]
    assert "Pri" in header and "Runs" in header
    assert (" 7 " in run.stdout and "in 2 hours" in run.stdout) or "in 1 hour" in run.stdout


def test_item_17_processes_list_names_the_supervisor(alias, cli):
    from tests.cli.conftest import register_process

    supervisor = register_process(alias, "supervisor", "supervisor-4711")
    from djq.engine.processes import register

    register(alias, backend_alias=alias, kind="worker", name="worker-1", hostname="test", pid=os.getpid(),
             supervisor_id=supervisor)

    rows = [line.split("\t") for line in cli("processes", "list").stdout.splitlines()]

    worker = next(r for r in rows if r[1] == "worker")
    assert worker[5] == "supervisor-4711"


def test_item_18_long_bulk_verbs_show_a_progress_bar_on_a_terminal_only(alias):
    from tests.cli.conftest import run_in_pty

    failed_jobs(alias, 30)

    piped = run_djq("--backend", alias, "jobs", "retry", "--all", "--batch-size", "1", "--yes")
    from tests.cli.conftest import work

    work(alias)
    shown = run_in_pty("--backend", alias, "jobs", "discard", "--all", "--state", "failed", "--batch-size", "1",
                       "--yes")

    assert piped.exit_code == 0 and piped.stderr == "retried 30 jobs; matched 30, changed 30, skipped 0\n"
    assert shown.exit_code == 0, shown.stdout
    assert "discarding" in shown.stdout
    assert "discarded 30 jobs; matched 30, changed 30, skipped 0" in shown.stdout


def test_item_18_prune_verbose_shows_a_progress_bar_on_a_terminal_only(alias):
    from tests.cli.conftest import run_in_pty

    failed_jobs(alias, 6)
    piped = run_djq("--backend", alias, "prune", "--failed-older-than", "0", "--batch-size", "2", "-v")
    failed_jobs(alias, 6)
    shown = run_in_pty("--backend", alias, "prune", "--failed-older-than", "0", "--batch-size", "2", "-v")

    assert piped.exit_code == 0 and "pruning" not in piped.stderr
    assert "deleted" in piped.stderr and "6 failed jobs" in piped.stderr
    assert shown.exit_code == 0, shown.stdout
    assert "pruning" in shown.stdout
    assert "6 failed jobs" in shown.stdout


def test_item_17_jobs_list_piped_has_a_header_line_in_a_stable_order(alias):
    job = enqueue(alias)

    run = run_djq("--backend", alias, "jobs", "list")
    bare = run_djq("--backend", alias, "jobs", "list", "--no-header")

    header, row = run.stdout.splitlines()
    assert header.split("\t") == ["id", "queue_name", "task_path", "state", "priority", "attempts", "enqueued_at",
                                  "finished_at", "last_error"]
    assert row.split("\t")[0] == str(job)
    assert bare.stdout.splitlines() == [row]


def test_item_17_standalone_status_names_the_database_it_reads(alias, tmp_path):
    from tests.cli.conftest import run_in_pty
    from tests.cli.test_standalone import database_url

    url = database_url(alias)
    env = subprocess_env(DJANGO_SETTINGS_MODULE=None, DJQ_TEST_DATABASES=None, PYTHONPATH=None, DJQ_DATABASE_URL=url)

    run = run_in_pty("status", env=env)

    assert run.exit_code == 0, run.stdout
    assert f"djq backend default (database default; standalone: {url})" in run.stdout
