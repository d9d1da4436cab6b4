"""``djq status``: one screen about a backend: queues, processes, recurring tasks, semaphores."""

from __future__ import annotations

import sys

import typer

from ..context import print_json, state
from .base import command
from .queues import COLUMNS as QUEUE_COLUMNS
from .queues import queue_rows
from .semaphores import COLUMNS as SEMAPHORE_COLUMNS


def _summary(snap) -> dict:
    """The snapshot in the shape ``--json`` prints (everything in it comes from ``djq.ops``)."""
    ov = snap.overview
    return {
        "backend": snap.backend_alias, "database": snap.database_alias, "generated_at": snap.generated_at,
        "totals": {k: v for k, v in snap.totals.items() if k not in ("finished", "discarded")},
        "finished_last_minute": snap.finished_last_minute, "failed_last_minute": snap.failed_last_minute,
        "oldest_ready_age": ov.oldest_ready_age, "queues": snap.queues, "processes": ov.process_counts,
        "recurring": snap.recurring_summary, "semaphores": snap.semaphores,
    }


def status(ctx: typer.Context) -> None:
    """One screen about the backend: queues, job totals, processes, recurring tasks and semaphores.

    Piped, each line starts with what it describes (queue, jobs, process,
    recurring, semaphore).

    Examples:

      djq status

      djq --backend critical status

      djq --json status
    """
    st = state(ctx)
    st.backend_object()
    from djq.ops.stats import snapshot

    summary = _summary(snapshot(st.backend, max_age=0))
    if st.json:
        print_json(summary)
    elif sys.stdout.isatty():
        _screen(st, summary)
    else:
        _lines(summary)


def _counts(mapping: dict, order: tuple[str, ...]) -> str:
    return ", ".join(f"{mapping.get(k, 0)} {'running' if k == 'claimed' else k}" for k in order)


def _screen(st, s: dict) -> None:
    from rich.table import Table

    from ..humanize_time import relative
    from ..render import plural

    console = st.console
    console.print(f"djq backend {s['backend']} (database {s['database']})", style="bold", markup=False,
                  highlight=False)
    if s["queues"]:
        st.output(queue_rows(s["queues"]), QUEUE_COLUMNS)
    else:
        console.print("No queues with work, failures or pauses.", markup=False, highlight=False)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("Jobs", _counts(s["totals"], ("ready", "scheduled", "claimed", "blocked", "failed"))
                 + f"; last minute: {s['finished_last_minute']} finished, {s['failed_last_minute']} failed")
    processes = ", ".join(
        plural(c["live"], kind) + (f" (+{c['stale']} stale)" if c["stale"] else "")
        for kind, c in s["processes"].items()
    )
    grid.add_row("Processes", processes or "none registered; start workers with `djq start`")
    if s["oldest_ready_age"] is not None:
        from ..humanize_time import duration

        grid.add_row("Latency", f"the oldest ready job has waited {duration(s['oldest_ready_age'])}")
    recurring = s["recurring"]
    text = plural(recurring.total, "task") + (f", {recurring.paused} paused" if recurring.paused else "")
    if recurring.next_key:
        text += f"; next: {recurring.next_key} {relative(recurring.next_run_at)}"
    grid.add_row("Recurring", text)
    grid.add_row("Semaphores", plural(len(s["semaphores"]), "key") if s["semaphores"] else "none in use")
    console.print()
    console.print(grid)
    if s["semaphores"]:
        console.print()
        st.output(s["semaphores"], SEMAPHORE_COLUMNS)


def _lines(s: dict) -> None:
    from ..context import _plain

    out = []
    for row in queue_rows(s["queues"]):
        out.append(["queue", *(row[attr] for attr, _ in QUEUE_COLUMNS)])
    for name, n in s["totals"].items():
        out.append(["jobs", name, n])
    out.append(["jobs", "finished_last_minute", s["finished_last_minute"]])
    out.append(["jobs", "failed_last_minute", s["failed_last_minute"]])
    for kind, c in s["processes"].items():
        out.append(["process", kind, c["live"], c["stale"]])
    r = s["recurring"]
    out.append(["recurring", r.total, r.paused, r.next_key, r.next_run_at])
    for sem in s["semaphores"]:
        out.append(["semaphore", *(getattr(sem, attr) for attr, _ in SEMAPHORE_COLUMNS)])
    for row in out:
        sys.stdout.write("\t".join(_plain(v) for v in row) + "\n")


def register(app: typer.Typer) -> None:
    command(app, "status", status, panel="Inspect")
