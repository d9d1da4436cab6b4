"""Standalone mode: only ``--database-url``, no settings module and no application code.

The commands run in a child process started in an empty directory (so
``tests.tasks`` cannot be imported) against the suite's PostgreSQL database
and its SQLite file. The queue's backend alias there is ``default``, as
standalone mode assumes.

Starting Python and Django costs a second or two per process, so a small
driver runs a whole script of commands through ``djq_cli.main.main`` in one
child: the first command sets Django up the standalone way, the others reuse
it. One command also goes through the ``djq`` console script itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.cli.conftest import Run, run_djq, subprocess_env, work
from tests.databases import PG

DRIVER = r"""
import contextlib, io, json, sys
from djq_cli.main import main

results = []
for n, argv in enumerate(json.load(sys.stdin)):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv, django_ready=n > 0)
    results.append([code, out.getvalue(), err.getvalue()])
if "django.conf" in sys.modules:
    from django.conf import settings
    results.append(["settings", getattr(settings, "SETTINGS_MODULE", None), sorted(settings.INSTALLED_APPS)])
sys.__stdout__.write(json.dumps(results))
"""


def database_url(alias: str) -> str:
    params = json.loads(os.environ["DJQ_TEST_DATABASES"])[alias]
    if params["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{params['NAME']}"
    password = f":{PG['PASSWORD']}" if PG["PASSWORD"] else ""
    return f"postgres://{PG['USER']}{password}@{PG['HOST']}:{PG['PORT']}/{params['NAME']}"


@pytest.fixture
def env(alias):
    return subprocess_env(DJANGO_SETTINGS_MODULE=None, DJQ_TEST_DATABASES=None, PYTHONPATH=None,
                          DJQ_DATABASE_URL=database_url(alias))


@pytest.fixture
def script(env, tmp_path):
    """``script(["jobs", "list"], ...)``: run commands in one standalone child; returns a Run per command."""

    def run(*commands: list[str]) -> list[Run]:
        proc = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps(commands), cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        *results, (_, module, apps) = json.loads(proc.stdout)
        assert module is None and apps == ["djq"]  # no settings module, no application
        return [Run(*r) for r in results]

    return run


def ok(result: Run) -> Run:
    assert result.exit_code == 0, result.stderr
    return result


def lines(result: Run) -> list[list[str]]:
    return [line.split("\t") for line in ok(result).stdout.splitlines()]


@pytest.mark.vendors("sqlite", "postgresql")
def test_every_command_works_with_only_a_database_url(alias, script, env, tmp_path):
    from djq.config import RecurringTaskConfig
    from djq.engine.processes import register
    from djq.engine.recurring import sync_static

    # Stored by task path by the standalone CLI; then run here, where the code is.
    enqueued = script(*[["enqueue", "tests.tasks.fail", "--args", f'["e{n}"]'] for n in range(4)],
                      ["enqueue", "tests.tasks.add", "--args", "[1, 2]", "--queue", "reports"])
    ids = [int(ok(r).stdout) for r in enqueued]
    assert sorted(work(alias, "default")) == sorted(ids)
    failed = ids[:4]
    register(alias, backend_alias="default", kind="worker", name="worker-1", hostname="elsewhere", pid=1)
    sync_static(alias, "default", [RecurringTaskConfig(key="nightly", task_path="tests.tasks.add",
                                                       schedule="0 3 * * *", args=(1, 2))])

    (ready, status, queues, queue, listing, show, recurring, one_task, processes, semaphores, health, stats, config,
     check, pause, pause_again, resume, retry, again, discard, dry_retry, rpause, rresume, run_now, as_json, cleared,
     refused, pruned) = script(
        ["enqueue", "tests.tasks.add", "--queue", "reports"],
        ["status"], ["queues", "list"], ["queues", "show", "reports"], ["jobs", "list", "--state", "failed"],
        ["jobs", "show", str(failed[0])], ["recurring", "list"], ["recurring", "show", "nightly"],
        ["processes", "list"], ["semaphores", "list"], ["health"], ["stats"], ["config", "show"], ["check"],
        ["queues", "pause", "reports"], ["queues", "pause", "reports"], ["queues", "resume", "reports"],
        ["jobs", "retry", str(failed[0])], ["jobs", "enqueue-again", str(failed[1])],
        ["jobs", "discard", str(failed[2])], ["jobs", "retry", "--all", "--dry-run"],
        ["recurring", "pause", "nightly"], ["recurring", "resume", "nightly"], ["recurring", "run", "nightly"],
        ["--json", "jobs", "list"], ["--json", "queues", "clear", "default", "--yes"], ["jobs", "retry", "--all"],
        ["prune", "--older-than", "0", "--failed-older-than", "0", "-v"],
    )
    ready_id = int(ok(ready).stdout)

    # inspecting
    assert lines(status)[0][:8] == ["queue", "default", "0", "0", "0", "0", "4", "no"]
    assert [row[0] for row in lines(queues)] == ["default", "reports"]
    assert "ready\t1" in queue.stdout
    assert sorted(int(row[0]) for row in lines(listing)) == sorted(failed)
    assert "last_error\tValueError: e0" in ok(show).stdout
    assert ok(recurring).stdout.startswith("nightly\ttests.tasks.add\t0 3 * * *")
    assert "args\t[1, 2]" in ok(one_task).stdout
    assert "\tworker\tworker-1\telsewhere\t" in ok(processes).stdout
    assert ok(semaphores).stdout == ""
    assert ok(health).stderr == ""
    assert json.loads(ok(stats).stdout)["totals"]["failed"] == 4
    assert 'database_alias\t"default"\tdefault' in ok(config).stdout
    assert ok(check).stderr == "djq check: no problems found\n"

    # operating
    assert (ok(pause).stderr, ok(pause_again).stderr, ok(resume).stderr) == (
        "paused reports\n", "reports is already paused\n", "resumed reports\n")
    assert ok(retry).stderr == "retried 1 job; matched 1, changed 1, skipped 0\n"
    assert ok(discard).stderr == "discarded 1 job; matched 1, changed 1, skipped 0\n"
    assert ok(dry_retry).stderr == "dry run: would retry 2 jobs; matched 2, changed 0, skipped 0\n"
    assert (ok(rpause).stderr, ok(rresume).stderr) == ("paused nightly\n", "resumed nightly\n")
    jobs = {j["id"]: j for j in json.loads(ok(as_json).stdout)}
    copy, fired = jobs[int(ok(again).stdout)], jobs[int(ok(run_now).stdout)]
    assert jobs[failed[0]]["state"] == "ready" and failed[2] not in jobs and ready_id in jobs
    assert (copy["task_path"], fired["task_path"]) == ("tests.tasks.fail", "tests.tasks.add")
    assert json.loads(ok(cleared).stdout)["changed"] == 3  # the retried job, the copy, the fired one
    assert (refused.exit_code, refused.stderr) == (
        2, "djq: error: refusing to retry every matching job without --yes when not on a terminal\n")
    assert ok(pruned).stderr.startswith("deleted 1 finished or discarded job (older than 0 seconds); 2 failed jobs")

    # and the console script itself, standalone
    missing = run_djq("jobs", "show", "987654", env=env, cwd=tmp_path)
    assert (missing.exit_code, missing.stdout, missing.stderr) == (
        1, "", "djq: error: no job 987654 in backend 'default'\n")
