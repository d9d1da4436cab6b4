"""The command tree. Each module holds one noun (or one verb) and adds itself here."""

import typer


def register_commands(app: typer.Typer) -> None:
    from . import enqueue, migrate, start

    start.register(app)
    enqueue.register(app)
    migrate.register(app)
