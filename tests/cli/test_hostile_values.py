"""Hostile option values are usage errors: exit 2, one line naming the option (issue 10 item 10)."""

from __future__ import annotations

import pytest

from tests.cli.conftest import run_djq


def _usage(run, option: str) -> str:
    assert (run.exit_code, run.stdout) == (2, ""), run
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"djq: error: {option}: "), run.stderr
    assert "Traceback" not in run.stderr
    return lines[0]


@pytest.mark.vendors("sqlite")
@pytest.mark.parametrize(
    ("args", "option", "reason"),
    [
        (["enqueue", "tests.tasks.add", "--run-after", "+99999999999w"], "--run-after",
         "a duration is at most 36500d (100 years), got '99999999999w'"),
        (["enqueue", "tests.tasks.add", "--run-after", "9999-12-31T23:00:00-05:00"], "--run-after",
         "'9999-12-31T23:00:00-05:00' is after the year 9999 in UTC"),
        (["prune", "--failed-older-than", "99999999999999w"], "--failed-older-than",
         "a duration is at most 36500d (100 years), got '99999999999999w'"),
        (["prune", "--older-than", "1" * 400], "--older-than", "a duration is at most 36500d (100 years), got"),
        (["jobs", "list", "--older-than", "99999999999999w"], "--older-than", "a duration is at most"),
        (["health", "--max-age", "99999999999999w"], "--max-age", "a duration is at most"),
        (["jobs", "retry", "--all", "--at", "+99999999999w", "--yes"], "--at", "a duration is at most"),
        (["enqueue", "tests.tasks.add", "--args", "[NaN]"], "--args",
         "not valid JSON (NaN is not a JSON number (only finite numbers are))"),
        (["enqueue", "tests.tasks.add", "--kwargs", '{"x": -Infinity}'], "--kwargs",
         "not valid JSON (-Infinity is not a JSON number (only finite numbers are))"),
        (["enqueue", "tests.tasks.add", "--args", "[" * 100_000 + "]" * 100_000], "--args",
         "JSON nested deeper than 64 levels"),
        (["enqueue", "tests.tasks.add", "--args", "[" * 65 + "]" * 65], "--args", "JSON nested deeper than 64 levels"),
        (["enqueue", "tests.tasks.add", "--args", "[" + "9" * 5000 + "]"], "--args", "not valid JSON (Exceeds"),
        (["recurring", "schedule", "k", "--task", "tests.tasks.add", "--schedule", "@daily", "--args", "[NaN]"],
         "--args", "not valid JSON (NaN"),
    ],
)
def test_item10_hostile_values_are_usage_errors(alias, cli, args, option, reason):
    assert reason in _usage(cli(*args), option)


@pytest.mark.vendors("sqlite")
def test_item10_deep_json_through_the_real_program(alias):
    """The console script itself, not only the in-process runner: one line, exit 2.

    (50,000 deep: one argument of a program is at most 128 KiB.)
    """
    run = run_djq("enqueue", "tests.tasks.add", "--args", "[" * 50_000 + "]" * 50_000)
    assert _usage(run, "--args") == "djq: error: --args: JSON nested deeper than 64 levels"


@pytest.mark.vendors("sqlite")
def test_item10_sane_values_still_work(alias, cli):
    import json

    run = cli("enqueue", "tests.tasks.add", "--args", "[1, 2]", "--run-after", "+36500d", json=True)
    assert run.exit_code == 0, run
    job = json.loads(cli("jobs", "show", str(json.loads(run.stdout)["id"]), json=True).stdout)
    assert job["job"]["state"] == "scheduled"
    assert cli("prune", "--failed-older-than", "5200w").exit_code == 0


def _alias_bomb(path) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    path.write_text("\n".join(lines) + "\nworkers: *a9\n")
    return str(path)


@pytest.mark.vendors("sqlite")
def test_item11_check_and_config_show_refuse_an_alias_bomb(alias, cli, tmp_path):
    """Nine levels of nine aliases: today both commands never return."""
    path = _alias_bomb(tmp_path / "bomb.yml")
    run = cli("check", "--config", path)
    assert run.exit_code == 1 and run.stdout == ""
    assert f"{path} line 6: aliases expand to more than 100,000 values" in run.stderr
    run = cli("config", "show", "--config", path)
    assert run.exit_code == 1 and len(run.stderr.splitlines()) == 1
    assert run.stderr == (f"djq: error: configuration error: {path} line 6: aliases expand to more than"
                          " 100,000 values\n")


@pytest.mark.vendors("sqlite")
def test_item11_config_show_names_a_non_utf8_file(alias, cli, tmp_path):
    path = tmp_path / "latin1.yml"
    path.write_bytes(b"mode: fork\n# caf\xe9\n")
    run = cli("config", "show", "--config", str(path))
    assert run.exit_code == 1
    assert run.stderr == f"djq: error: configuration error: {path} line 2: not UTF-8 text (byte 0xe9 at offset 16)\n"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (["--args", '["\\ud800"]'], "arguments must round-trip through JSON: args[0]: text contains a lone surrogate"),
        (["--args", '["\\u0000"]'], "args[0]: text contains a NUL character (\\x00), which PostgreSQL cannot store"),
        (["--queue", "   "], "queue name must not be empty or only spaces, got '   '"),
        (["--queue", "q" * 65], "is longer than 64 characters"),
        (["--args", f"[{2**64}]"], "args[0]: integer outside -2**63 .. 2**63-1"),
    ],
)
def test_item9_djq_enqueue_refuses_in_one_line(alias, cli, backend, extra, reason):
    """Values only the engine can judge: exit 1 with the EnqueueError, nothing stored."""
    if "NUL" in reason and backend.dialect.vendor != "postgresql":
        run = cli("enqueue", "tests.tasks.echo", *extra)
        assert run.exit_code == 0  # other databases store NUL, and it reads back
        return
    for task_path in ("tests.tasks.echo", "standalone.tasks.not_here"):
        run = cli("enqueue", task_path, *extra)
        assert (run.exit_code, run.stdout) == (1, ""), run
        assert run.stderr.startswith("djq: error: ") and reason in run.stderr and len(run.stderr.splitlines()) == 1
    assert cli("jobs", "list", json=True).stdout.strip() == "[]"
