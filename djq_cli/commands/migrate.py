"""``djq migrate``: create or update djq's tables on every queue database."""

from __future__ import annotations

import typer

from ..context import state
from .base import command


def migrate(ctx: typer.Context) -> None:
    """Apply djq's migrations to each database a djq backend uses.

    Examples:

      djq migrate

      djq --database-url postgresql://queue@db/queue migrate
    """
    st = state(ctx)
    st.django()
    from django.core.management import call_command

    from djq.ops.schema import pending_migrations, queue_databases

    for database in sorted(queue_databases()):
        pending = pending_migrations(database)
        if not pending:
            st.message(f"{database}: djq tables are up to date")
            continue
        call_command("migrate", "djq", database=database, verbosity=0, interactive=False)
        st.message(f"{database}: applied {len(pending)} djq migration{'s' if len(pending) != 1 else ''}")


def register(app: typer.Typer) -> None:
    command(app, "migrate", migrate, panel="Maintain")
