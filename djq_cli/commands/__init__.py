"""The command tree. Each module holds one noun (or one verb) and adds itself here.

Modules import nothing heavy at the top: ``djq --help`` loads them all and
must not set Django up.
"""

import typer


def register_commands(app: typer.Typer) -> None:
    from . import (
        check,
        config,
        enqueue,
        health,
        jobs,
        migrate,
        processes,
        prune,
        queues,
        recurring,
        semaphores,
        start,
        stats,
        status,
        tui,
    )

    start.register(app)
    for module in (status, processes, semaphores, health, stats, queues, jobs, recurring, enqueue,
                   prune, check, config, migrate, tui):
        module.register(app)
