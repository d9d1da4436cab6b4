"""Help for every command: complete, with examples, and cheap (no Django set-up, no Textual)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.cli.conftest import DJQ, ROOT, invoke, subprocess_env


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group of the tree, e.g. ("jobs",), ("jobs", "retry"), ("status",)."""
    from typer.main import get_command

    from djq_cli.main import app

    paths: list[tuple[str, ...]] = []

    def walk(command, prefix: tuple[str, ...]) -> None:
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            paths.append((*prefix, name))
            walk(sub, (*prefix, name))

    walk(get_command(app), ())
    return paths


PATHS = command_paths()


def test_the_tree_has_every_command_of_the_spec():
    assert {" ".join(p) for p in PATHS} >= {
        "status", "queues list", "queues show", "queues pause", "queues resume", "queues clear", "jobs list",
        "jobs show", "jobs retry", "jobs discard", "jobs enqueue-again", "recurring list", "recurring show",
        "recurring schedule", "recurring unschedule", "recurring pause", "recurring resume", "recurring run",
        "processes list", "semaphores list", "prune", "health", "stats", "config show", "check", "start",
        "enqueue", "migrate",
    }


@pytest.mark.parametrize("path", PATHS, ids=" ".join)
def test_help_is_complete_with_examples(path):
    from typer.main import get_command

    from djq_cli.main import app

    run = invoke([*path, "--help"])

    assert run.exit_code == 0
    assert f"Usage: djq {' '.join(path)}" in run.stdout
    examples = run.stdout.split("Examples:", 1)
    assert len(examples) == 2, f"`djq {' '.join(path)} --help` has no Examples: section"
    assert f"djq {path[0]}" in examples[1] or f"djq --json {path[0]}" in examples[1]

    command = get_command(app)
    for name in path:
        command = command.commands[name]
    assert (command.help or "").strip(), f"djq {' '.join(path)} has no help text"
    for param in command.params:
        if param.name != "help":
            assert (getattr(param, "help", None) or "").strip(), f"djq {' '.join(path)}: {param.name} has no help"


def test_root_help_lists_the_tree():
    run = invoke(["--help"])
    assert run.exit_code == 0
    for name in ("status", "queues", "jobs", "recurring", "processes", "semaphores", "prune", "health", "stats",
                 "config", "check"):
        assert f" {name} " in run.stdout


def test_help_imports_neither_django_db_nor_textual():
    """Every ``--help`` in one child process, through ``main()``; then what got imported."""
    driver = (
        "import contextlib, io, json, sys\n"
        "from djq_cli.main import main\n"
        "codes = []\n"
        "for path in json.load(sys.stdin):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        codes.append(main([*path, '--help']))\n"
        "mods = sorted(m for m in sys.modules if m.startswith(('django.db', 'textual', 'django.apps')))\n"
        "print(json.dumps({'codes': codes, 'modules': mods}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", driver], input=json.dumps([[], *PATHS]), cwd=ROOT,
                          env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result["codes"]) == {0}
    assert result["modules"] == []


def test_the_console_script_help_is_cheap():
    proc = subprocess.run([sys.executable, "-X", "importtime", str(DJQ), "--help"], cwd=ROOT, env=subprocess_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "Usage: djq" in proc.stdout
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "typer" in imported
    assert not {m for m in imported if m.startswith(("django.db", "textual"))}


def test_version():
    from djq import __version__

    assert invoke(["--version"]).stdout == f"djq {__version__}\n"
