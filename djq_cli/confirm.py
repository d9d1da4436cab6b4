"""Asking before destructive commands.

On a terminal the question names the count and the targets, and the default
answer is no. Without a terminal nobody can answer, so the command refuses
(exit 2) unless ``--yes`` was given: a script must say what it means.

Commands call ``needed`` first (before touching the database), then ``ask``
with a question built from a dry run.
"""

from __future__ import annotations

import sys

import typer

from .commands.base import FAILED, say, usage


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def needed(action: str, *, yes: bool) -> bool:
    """True when a prompt must be shown; refuses (exit 2) when there is nobody to ask."""
    if yes:
        return False
    if not stdin_is_terminal():
        usage(f"refusing to {action} without --yes when not on a terminal")
    return True


def ask(question: str) -> None:
    """Prompt on stderr (default no); stop with exit 1 unless the answer is yes."""
    try:
        agreed = typer.confirm(question, default=False, err=True)
    except typer.Abort:
        agreed = False
    if not agreed:
        say("djq: cancelled, nothing changed")
        raise typer.Exit(FAILED)
