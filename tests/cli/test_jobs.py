"""`djq jobs ...` on every vendor: listing filters, show, retry, discard, enqueue-again."""

from __future__ import annotations

import json

from tests import tasks
from tests.cli.conftest import enqueue, failed_jobs, work


def _states(cli) -> dict[int, str]:
    return {row["id"]: row["state"] for row in json.loads(cli("jobs", "list", "--limit", "500", json=True).stdout)}


def test_list_filters_and_pages(alias, cli):
    failed = failed_jobs(alias, 2, queue="emails")
    ready = [enqueue(alias) for _ in range(3)]

    run = cli("jobs", "list", "--state", "failed")
    rows = [line.split("\t") for line in run.stdout.splitlines()]
    assert [int(r[0]) for r in rows] == sorted(failed, reverse=True)
    assert {r[1] for r in rows} == {"emails"} and {r[3] for r in rows} == {"failed"}
    assert rows[0][-1] == "ValueError: boom"

    assert [int(line.split("\t")[0]) for line in cli("jobs", "list", "--queue", "default").stdout.splitlines()] == \
        sorted(ready, reverse=True)
    first = cli("jobs", "list", "--limit", "1", "--queue", "default", json=True)
    assert [r["id"] for r in json.loads(first.stdout)] == [max(ready)]
    assert len(cli("jobs", "list", "--state", "failed,ready").stdout.splitlines()) == 5
    assert cli("jobs", "list", "--exception", "ValueError", "--task", "tests.tasks.fail").stdout.count("\n") == 2
    assert cli("jobs", "list", "--exception", "KeyError").stdout == ""
    assert cli("jobs", "list", "--state", "failed", "--older-than", "1h").stdout == ""


def test_list_times_are_iso_when_piped(alias, cli):
    job = enqueue(alias)

    [row] = [line.split("\t") for line in cli("jobs", "list").stdout.splitlines()]

    assert int(row[0]) == job
    assert row[6][:4].isdigit() and "T" in row[6] and row[6].endswith("+00:00")


def test_list_bad_options_are_usage_errors(alias, cli):
    bad_state = cli("jobs", "list", "--state", "bogus")
    assert bad_state.exit_code == 2
    assert bad_state.stderr.startswith("djq: error: --state: unknown state 'bogus'")
    bad_age = cli("jobs", "list", "--older-than", "7x")
    assert (bad_age.exit_code, len(bad_age.stderr.splitlines())) == (2, 1)
    assert "--older-than" in bad_age.stderr


def test_show(alias, cli):
    [job] = failed_jobs(alias, 1, message="kaput")

    run = cli("jobs", "show", str(job))

    fields = {line.split("\t")[0]: line.split("\t", 1)[1] for line in run.stdout.splitlines()}
    assert fields["state"] == "failed" and fields["task"] == "tests.tasks.fail"
    assert fields["args"] == '["kaput"]'
    assert fields["last_error"] == "ValueError: kaput"
    assert "attempts\t1\tcli-test-worker-1" in run.stdout

    doc = json.loads(cli("jobs", "show", str(job), json=True).stdout)
    assert doc["job"]["id"] == job and doc["args"] == ["kaput"]
    assert doc["history"][0]["error_class"] == "builtins.ValueError"


def test_show_on_a_terminal(alias, cli, terminal):
    [job] = failed_jobs(alias, 1)

    run = cli("jobs", "show", str(job))

    assert run.stdout.startswith(f"Job {job}\n")
    assert "Attempts" in run.stdout and "builtins.ValueError: boom" in run.stdout
    assert "ago)" in run.stdout


def test_show_unknown_job(alias, cli):
    run = cli("jobs", "show", "123456")

    assert run.exit_code == 1
    assert run.stderr == f"djq: error: no job 123456 in backend '{alias}'\n"


def test_retry_one_needs_no_prompt(alias, cli):
    [job] = failed_jobs(alias, 1)

    run = cli("jobs", "retry", str(job))

    assert run.exit_code == 0
    assert run.stderr == "retried 1 job; matched 1, changed 1, skipped 0\n"
    assert _states(cli)[job] == "ready"
    again = cli("jobs", "retry", str(job))
    assert (again.exit_code, again.stderr) == (1, f"djq: error: job {job} is not failed; only failed jobs can be "
                                                  "retried\n")


def test_retry_unknown_job(alias, cli):
    run = cli("jobs", "retry", "999999")
    assert (run.exit_code, run.stderr) == (1, f"djq: error: no job 999999 in backend '{alias}'\n")


def test_retry_at_a_later_time(alias, cli):
    [job] = failed_jobs(alias, 1)

    assert cli("jobs", "retry", str(job), "--at", "+1h").exit_code == 0

    assert _states(cli)[job] == "scheduled"
    bad = cli("jobs", "retry", str(job), "--at", "soon")
    assert bad.exit_code == 2 and bad.stderr.startswith("djq: error: --at: expected an ISO 8601 time")


def test_bulk_retry_refuses_without_terminal(alias, cli):
    jobs = failed_jobs(alias, 2)

    for args in (["--all"], [str(j) for j in jobs]):
        run = cli("jobs", "retry", *args)
        assert run.exit_code == 2
        assert run.stderr.startswith("djq: error: refusing to retry")
        assert run.stderr.endswith("without --yes when not on a terminal\n")
    assert set(_states(cli).values()) == {"failed"}


def test_bulk_retry_dry_run_then_yes(alias, cli):
    jobs = failed_jobs(alias, 3, queue="emails")
    other = failed_jobs(alias, 1, queue="default")

    dry = cli("jobs", "retry", "--all", "--queue", "emails", "--dry-run", json=True)
    assert dry.exit_code == 0
    doc = json.loads(dry.stdout)
    assert {k: doc[k] for k in ("matched", "changed", "skipped", "dry_run")} == {
        "matched": 3, "changed": 0, "skipped": 0, "dry_run": True}
    assert sorted(doc["ids"]) == sorted(jobs)

    run = cli("jobs", "retry", "--all", "--queue", "emails", "--yes")
    assert run.exit_code == 0
    assert run.stderr == "retried 3 jobs; matched 3, changed 3, skipped 0\n"
    states = _states(cli)
    assert [states[j] for j in jobs] == ["ready"] * 3 and states[other[0]] == "failed"


def test_bulk_retry_by_ids_reports_skips(alias, cli):
    jobs = failed_jobs(alias, 2)
    ready = enqueue(alias)

    run = cli("jobs", "retry", *map(str, jobs), str(ready), "--yes", json=True)

    doc = json.loads(run.stdout)
    assert (doc["matched"], doc["changed"], doc["skipped"]) == (2, 2, 1)
    assert run.exit_code == 0
    missing = cli("jobs", "retry", str(ready), "424242", "--yes")
    assert missing.exit_code == 1
    assert "skipped 2 (not failed: 1, not found: 1)" in missing.stderr


def test_bulk_retry_asks_on_a_terminal(alias, cli, terminal):
    failed_jobs(alias, 2, queue="emails")

    run = cli("jobs", "retry", "--all", "--queue", "emails", input="y\n")

    assert run.exit_code == 0
    assert "Retry 2 failed jobs (queue emails)? [y/N]" in run.stderr
    assert "retried 2 jobs" in run.stderr


def test_retry_usage_errors(alias, cli):
    assert cli("jobs", "retry").exit_code == 2
    assert cli("jobs", "retry", "1", "--all").exit_code == 2
    run = cli("jobs", "retry", "1", "--queue", "x")
    assert (run.exit_code, run.stderr) == (2, "djq: error: --queue applies only with --all\n")


def test_discard_one(alias, cli):
    job = enqueue(alias)

    run = cli("jobs", "discard", str(job))

    assert run.exit_code == 0
    assert run.stderr == "discarded 1 job; matched 1, changed 1, skipped 0\n"
    assert job not in _states(cli)
    gone = cli("jobs", "discard", str(job))
    assert (gone.exit_code, gone.stderr) == (1, f"djq: error: no job {job} in backend '{alias}'\n")


def test_discard_refuses_finished_and_running(alias, cli):
    job = enqueue(alias)
    work(alias)

    run = cli("jobs", "discard", str(job))

    assert run.exit_code == 1
    assert run.stderr == f"djq: error: job {job} is running or finished and cannot be discarded\n"


def test_bulk_discard_by_state_and_age(alias, cli):
    failed = failed_jobs(alias, 2)
    ready = enqueue(alias)

    refused = cli("jobs", "discard", "--all", "--state", "failed")
    assert refused.exit_code == 2

    dry = cli("jobs", "discard", "--all", "--state", "failed", "--dry-run")
    assert dry.stderr == "dry run: would discard 2 jobs; matched 2, changed 0, skipped 0\n"
    assert cli("jobs", "discard", "--all", "--state", "failed", "--older-than", "1h", "--yes",
               json=True).stdout.count('"matched": 0') == 1

    run = cli("jobs", "discard", "--all", "--state", "failed", "--yes", json=True)
    assert json.loads(run.stdout)["changed"] == 2
    assert set(_states(cli)) == {ready}
    assert not set(failed) & set(_states(cli))

    bad = cli("jobs", "discard", "--all", "--state", "finished", "--yes")
    assert bad.exit_code == 2 and "unknown state 'finished'" in bad.stderr


def test_bulk_discard_asks_on_a_terminal(alias, cli, terminal):
    jobs = [enqueue(alias) for _ in range(2)]

    run = cli("jobs", "discard", *map(str, jobs), input="n\n")

    assert run.exit_code == 1
    assert f"Discard 2 jobs (ids {jobs[0]}, {jobs[1]})? This cannot be undone. [y/N]" in run.stderr
    assert set(jobs) <= set(_states(cli))


def test_enqueue_again(alias, cli):
    [job] = failed_jobs(alias, 1, message="again")

    run = cli("jobs", "enqueue-again", str(job))

    assert run.exit_code == 0
    new = int(run.stdout)
    assert new != job and _states(cli)[new] == "ready"
    detail = json.loads(cli("jobs", "show", str(new), json=True).stdout)
    assert detail["args"] == ["again"] and detail["job"]["task_path"] == tasks.fail.module_path
    assert json.loads(cli("jobs", "enqueue-again", str(job), json=True).stdout)["source_id"] == job
    assert cli("jobs", "enqueue-again", "777777").exit_code == 1


def test_list_on_a_terminal_fits_the_width(alias, cli, terminal):
    [job] = failed_jobs(alias, 1, message="x" * 300)

    out = cli("jobs", "list").stdout

    header, _, row = out.splitlines()
    assert header.split() == ["ID", "┃", "Queue", "┃", "Task", "┃", "State", "┃", "Tries", "┃", "Enqueued", "┃",
                              "Last", "error"]
    assert row.startswith(f"{job}") and "tests.tasks.fail" in row and row.endswith("xxx…")
    assert max(len(line) for line in out.splitlines()) <= 160
