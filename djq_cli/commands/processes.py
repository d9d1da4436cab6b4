"""``djq processes``: the runtime processes registered for a backend and their heartbeats."""

from __future__ import annotations

import typer

from ..context import state
from .base import command, group

HELP = """Runtime processes: supervisors, workers, dispatchers and schedulers.

Examples:

  djq processes list

  djq --json processes list
"""

_ONE_LINE = {"no_wrap": True}
COLUMNS = [("id", "ID", _ONE_LINE), ("kind", "Kind", _ONE_LINE), ("name", "Name"), ("hostname", "Host"),
           ("pid", "PID", _ONE_LINE), ("supervisor_id", "Supervisor", _ONE_LINE),
           ("last_heartbeat_at", "Heartbeat", _ONE_LINE), ("alive", "Alive", _ONE_LINE),
           ("running", "Running", _ONE_LINE)]


def list_(ctx: typer.Context) -> None:
    """List registered processes, their last heartbeat, and the jobs each is running.

    A process is alive while its heartbeat is younger than
    process_alive_threshold.

    Examples:

      djq processes list

      djq --json processes list
    """
    st = state(ctx)
    st.backend_object()
    from djq.ops.health import list_processes

    from ..render import listing

    listing(st, list_processes(st.backend), COLUMNS)


def register(app: typer.Typer) -> None:
    processes = group(app, "processes", HELP, panel="Inspect")
    command(processes, "list", list_)
