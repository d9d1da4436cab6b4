"""``djq semaphores``: concurrency limits in use, their free slots and blocked jobs."""

from __future__ import annotations

import typer

from ..context import state
from .base import command, group

HELP = """Concurrency semaphores: one per concurrency key in use.

Examples:

  djq semaphores list

  djq --json semaphores list
"""

COLUMNS = [("key", "Key"), ("free", "Free"), ("limit", "Limit"), ("holders", "Holding"), ("blocked", "Blocked"),
           ("expires_at", "Expires")]


def list_(ctx: typer.Context) -> None:
    """List semaphores: free slots, the limit, jobs holding a slot and jobs blocked on one.

    Examples:

      djq semaphores list

      djq --json semaphores list
    """
    st = state(ctx)
    st.backend_object()
    from djq.ops.semaphores import list_semaphores

    st.output(list_semaphores(st.backend), COLUMNS)


def register(app: typer.Typer) -> None:
    semaphores = group(app, "semaphores", HELP, panel="Inspect")
    command(semaphores, "list", list_)
