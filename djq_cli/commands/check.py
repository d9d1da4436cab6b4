"""``djq check``: every configuration and migration problem, before anything runs."""

from __future__ import annotations

from typing import Annotated

import typer

from ..context import print_json, state
from .base import command, say


def check(
    ctx: typer.Context,
    config: Annotated[str | None, typer.Option(
        "--config", help="YAML file overlaying TASKS options (else DJQ_CONFIG).", show_default=False)] = None,
) -> None:
    """Validate settings, the YAML file, recurring schedules and migrations of every djq backend.

    Lists every problem, one per line on stderr, and exits 1; prints
    "djq check: no problems found" on stderr and exits 0 otherwise.

    Examples:

      djq check

      djq check --config /etc/djq.yml && djq start --config /etc/djq.yml

      djq --json check
    """
    st = state(ctx)
    st.django()
    from djq.config import djq_aliases, validate
    from djq.ops.schema import pending_migrations, queue_databases

    from ..errors import describe

    problems: list[str] = []
    for alias in djq_aliases():
        problems += validate(alias, config_file=config)
    for database in sorted(queue_databases()):
        try:
            pending = pending_migrations(database)
        except Exception as exc:
            problems.append(f"database {database!r}: {describe(exc)}")
            continue
        if pending:
            problems.append(f"database {database!r}: {len(pending)} djq migration(s) not applied "
                            f"({', '.join(pending)}); run `djq migrate`")
    if st.json:
        print_json({"ok": not problems, "problems": problems})
    else:
        for problem in problems:
            say(problem)
        say(f"djq check: {len(problems)} problem{'s' if len(problems) != 1 else ''} found" if problems
            else "djq check: no problems found")
    if problems:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    command(app, "check", check, panel="Maintain")
