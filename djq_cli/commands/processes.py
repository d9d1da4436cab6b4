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
           ("pid", "PID", _ONE_LINE), ("supervisor", "Supervisor", _ONE_LINE),
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

    rows = list_processes(st.backend)
    # A runner's supervisor by name ("supervisor-4711"), as `ps` and the logs call it, not by row id.
    names = {r.id: r.name for r in rows}
    table = [{c[0]: getattr(r, c[0], None) for c in COLUMNS}
             | {"supervisor": names.get(r.supervisor_id, r.supervisor_id)} for r in rows]
    listing(st, table, COLUMNS, document=rows)


def register(app: typer.Typer) -> None:
    processes = group(app, "processes", HELP, panel="Inspect")
    command(processes, "list", list_)
