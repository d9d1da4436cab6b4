"""The manual names every command, and every command line it shows exists."""

from __future__ import annotations

import re
import shlex

from tests.cli.conftest import ROOT
from tests.cli.test_help import PATHS

#: Where the command line is documented: (file, the "## ..." section of it, or None for the whole file).
MANUAL = [(ROOT / "README.md", "Command line")]


def manual_text() -> str:
    parts = []
    for path, section in MANUAL:
        if not path.exists():
            continue
        text = path.read_text()
        if section is not None:
            match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
            text = match.group(1) if match else ""
        parts.append(text)
    return "\n".join(parts)


def test_every_command_is_documented():
    text = manual_text()
    missing = [" ".join(p) for p in PATHS if f"djq {' '.join(p)}" not in text]
    assert not missing, f"not in the manual: {missing}"


def test_documented_command_lines_exist():
    """Each ``$ djq ...`` example names a real command, with options that command has."""
    from typer.main import get_command

    from djq_cli.main import app

    root = get_command(app)
    examples = re.findall(r"^\$ (djq .*)$", manual_text(), re.M)
    assert examples
    for line in examples:
        words = shlex.split(line.split("|")[0].split("&&")[0])[1:]
        command = root
        words = iter(words)
        for word in words:
            options = {o: p for p in command.params for o in (*p.opts, *p.secondary_opts)}
            if word.startswith("-"):
                param = options.get(word.split("=")[0])
                assert param is not None, f"{line!r}: unknown option {word}"
                if "=" not in word and not (getattr(param, "is_flag", False) or getattr(param, "count", False)):
                    next(words)  # the option's value
            elif word in getattr(command, "commands", {}):
                command = command.commands[word]
            elif hasattr(command, "commands"):
                raise AssertionError(f"{line!r}: no command {word!r}")
        assert not hasattr(command, "commands"), f"{line!r} names a group, not a command"
