"""`djq queues ...` on every vendor: the three output forms, idempotent pause, guarded clear."""

from __future__ import annotations

import json

from tests.cli.conftest import enqueue, failed_jobs


def test_list_piped_is_tab_separated_without_header(alias, cli):
    failed_jobs(alias, 1, queue="reports")
    enqueue(alias, None, 1, 2)
    enqueue(alias, None, 3, 4, queue="reports")

    run = cli("queues", "list")

    assert run.exit_code == 0, run.stderr
    assert run.stderr == ""
    lines = [line.split("\t") for line in run.stdout.splitlines()]
    assert [row[:7] for row in lines] == [
        ["default", "1", "0", "0", "0", "0", "no"],
        ["reports", "1", "0", "0", "0", "1", "no"],
    ]
    assert float(lines[0][7]) >= 0


def test_list_json_is_one_document(alias, cli):
    enqueue(alias)

    run = cli("queues", "list", json=True)

    doc = json.loads(run.stdout)
    assert [q["name"] for q in doc] == ["default"]
    assert doc[0]["ready"] == 1 and doc[0]["paused"] is False
    assert set(doc[0]) >= {"name", "ready", "scheduled", "claimed", "blocked", "failed", "paused", "latency"}


def test_list_on_a_terminal_is_a_table(alias, cli, terminal):
    enqueue(alias)

    run = cli("queues", "list")

    assert run.exit_code == 0
    header = run.stdout.splitlines()[0]
    assert "Queue" in header and "Ready" in header and "Latency" in header
    assert "\t" not in run.stdout
    assert "default" in run.stdout


def test_show(alias, cli):
    enqueue(alias, queue="emails")

    run = cli("queues", "show", "emails")

    fields = dict(line.split("\t", 1) for line in run.stdout.splitlines())
    assert fields["name"] == "emails" and fields["ready"] == "1" and fields["paused"] == "no"
    assert json.loads(cli("queues", "show", "emails", json=True).stdout)["ready"] == 1


def test_show_unknown_queue_exits_1_with_one_line(alias, cli):
    run = cli("queues", "show", "nope")

    assert run.exit_code == 1
    assert run.stdout == ""
    assert run.stderr.startswith("djq: error: no queue 'nope'")
    assert len(run.stderr.splitlines()) == 1


def test_pause_twice_is_ok_and_says_already_paused(alias, cli):
    first = cli("queues", "pause", "default")
    second = cli("queues", "pause", "default")

    assert (first.exit_code, first.stderr) == (0, "paused default\n")
    assert (second.exit_code, second.stderr) == (0, "default is already paused\n")
    assert cli("queues", "list").stdout.split("\t")[6] == "yes"


def test_pause_and_resume_several(alias, cli):
    assert cli("queues", "pause", "a", "b", "--create").stderr == "paused a\npaused b\n"
    run = cli("queues", "resume", "a", "b", "default", json=True)

    assert run.exit_code == 0
    assert [(c["name"], c["changed"]) for c in json.loads(run.stdout)] == [("a", True), ("b", True),
                                                                           ("default", False)]
    assert cli("queues", "resume", "default").stderr == "default is not paused\n"


def test_clear_refuses_without_terminal_or_yes(alias, cli):
    enqueue(alias)

    run = cli("queues", "clear", "default")

    assert run.exit_code == 2
    assert run.stderr == "djq: error: refusing to clear queue default without --yes when not on a terminal\n"
    assert json.loads(cli("queues", "list", json=True).stdout)[0]["ready"] == 1


def test_clear_with_yes_discards_ready_jobs_only(alias, cli):
    failed_jobs(alias, 1)
    ids = [enqueue(alias) for _ in range(3)]

    run = cli("queues", "clear", "default", "--yes", json=True)

    assert run.exit_code == 0
    doc = json.loads(run.stdout)
    assert {k: doc[k] for k in ("matched", "changed", "skipped", "dry_run")} == {
        "matched": 3, "changed": 3, "skipped": 0, "dry_run": False}
    assert sorted(doc["ids"]) == sorted(ids)
    [row] = json.loads(cli("queues", "list", json=True).stdout)
    assert (row["ready"], row["failed"]) == (0, 1)


def test_clear_dry_run_changes_nothing(alias, cli):
    enqueue(alias)
    enqueue(alias)

    run = cli("queues", "clear", "default", "--dry-run")

    assert run.exit_code == 0
    assert run.stderr == "dry run: would discard 2 jobs; matched 2, changed 0, skipped 0\n"
    assert json.loads(cli("queues", "list", json=True).stdout)[0]["ready"] == 2


def test_clear_asks_on_a_terminal(alias, cli, terminal):
    enqueue(alias)
    enqueue(alias)

    declined = cli("queues", "clear", "default", input="n\n")
    assert declined.exit_code == 1
    assert "Discard 2 ready jobs from queue 'default'?" in declined.stderr
    assert "cancelled" in declined.stderr

    agreed = cli("queues", "clear", "default", input="y\n")
    assert agreed.exit_code == 0
    assert "discarded 2 jobs" in agreed.stderr


def test_clear_unknown_queue(alias, cli):
    run = cli("queues", "clear", "nope", "--yes")
    assert run.exit_code == 1
    assert run.stderr.startswith("djq: error: no queue 'nope'")


def test_queues_outside_the_allow_list_are_unknown(alias, cli):
    import copy

    from django.conf import settings
    from django.test import override_settings

    tasks = copy.deepcopy(settings.TASKS)
    tasks[alias]["QUEUES"] = ["default", "emails"]
    with override_settings(TASKS=tasks):
        typo = cli("queues", "pause", "emials")
        empty = cli("queues", "show", "emails")

    assert typo.exit_code == 1
    assert typo.stderr == f"djq: error: no queue 'emials' in backend '{alias}' (QUEUES is default, emails)\n"
    assert empty.exit_code == 0 and "ready\t0" in empty.stdout
