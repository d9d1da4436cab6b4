"""``djq queues``: list queues, show one, pause and resume them, clear their ready jobs."""

from __future__ import annotations

from typing import Annotated

import typer

from ..context import state
from .base import command, group

HELP = """List queues with their counts and latency; pause, resume or clear them.

Examples:

  djq queues list

  djq queues pause emails reports

  djq queues clear emails --dry-run
"""

COLUMNS = [("name", "Queue"), ("ready", "Ready"), ("scheduled", "Scheduled"), ("claimed", "Running"),
           ("blocked", "Blocked"), ("failed", "Failed"), ("paused", "Paused"), ("latency", "Latency (s)")]

Names = Annotated[list[str], typer.Argument(help="One or more queue names.", show_default=False)]


def queue_rows(queues) -> list[dict]:
    return [{"name": q.name, "ready": q.ready, "scheduled": q.scheduled, "claimed": q.claimed,
             "blocked": q.blocked, "failed": q.failed, "paused": q.paused,
             "latency": None if q.latency is None else round(q.latency, 3)} for q in queues]


def list_(ctx: typer.Context) -> None:
    """List the queues that have jobs, failures or a pause.

    Latency is how long the oldest ready job has waited.

    Examples:

      djq queues list

      djq --json queues list
    """
    st = state(ctx)
    st.backend_object()
    from djq.ops.queues import list_queues

    queues = list_queues(st.backend)
    st.output(queue_rows(queues), COLUMNS, document=queues)


def show(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The queue name.")]) -> None:
    """Show one queue: counts by state, pause, and latency.

    Exits 1 when the backend has no such queue.

    Examples:

      djq queues show default

      djq --json queues show emails
    """
    st = state(ctx)
    st.backend_object()
    from djq.ops.queues import find_queue

    from ..render import detail

    q = find_queue(st.backend, name)
    detail(st, q, [("name", q.name), ("paused", q.paused), ("ready", q.ready), ("scheduled", q.scheduled),
                   ("running", q.claimed), ("blocked", q.blocked), ("failed", q.failed),
                   ("latency_seconds", None if q.latency is None else round(q.latency, 3)),
                   ("oldest_ready_at", q.oldest_ready_at)])


def pause(
    ctx: typer.Context,
    names: Names,
    create: Annotated[bool, typer.Option(
        "--create", help="Pause a queue that has no job yet (ahead of its first job).")] = False,
) -> None:
    """Stop workers claiming from these queues; enqueueing and running jobs go on.

    Pausing a paused queue succeeds and says so. A name the backend does not
    know (not in QUEUES, no job, no pause) is an error, unless --create.

    Examples:

      djq queues pause emails

      djq queues pause emails reports

      djq queues pause nightly-exports --create
    """
    st = state(ctx)
    st.backend_object()
    from djq.config import get_config
    from djq.exceptions import QueueNotFound
    from djq.ops.queues import pause as pause_queue
    from djq.ops.queues import require_queue

    from ..render import changes

    cfg = get_config(st.backend)
    for name in names:
        if not cfg.queue_allowed(name):
            raise QueueNotFound(f"no queue {name!r} in backend {st.backend!r} (QUEUES is {', '.join(cfg.queues)})")
        if not create:
            require_queue(st.backend, name, fix="pause it ahead of its first job with --create")
    changes(st, [pause_queue(st.backend, name) for name in names])


def resume(ctx: typer.Context, names: Names) -> None:
    """Let workers claim from these queues again.

    Resuming a queue that is not paused succeeds and says so; a name the
    backend does not know is an error.

    Examples:

      djq queues resume emails

      djq queues resume emails reports
    """
    st = state(ctx)
    st.backend_object()
    from djq.ops.queues import require_queue
    from djq.ops.queues import resume as resume_queue

    from ..render import changes

    for name in names:
        require_queue(st.backend, name)
    changes(st, [resume_queue(st.backend, name) for name in names])


def clear(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The queue to clear.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (needed when not on a terminal).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be discarded; change nothing.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Jobs deleted per transaction.")] = 1000,
) -> None:
    """Discard the ready jobs of a queue (scheduled, running and failed jobs stay).

    Asks first on a terminal; without one, needs --yes.

    Examples:

      djq queues clear emails --dry-run

      djq queues clear emails --yes
    """
    st = state(ctx)
    from .. import confirm

    ask = not dry_run and confirm.needed(f"clear queue {name}", yes=yes)
    st.backend_object()
    from djq.ops.queues import clear as clear_queue
    from djq.ops.queues import find_queue

    from ..render import bulk, plural

    find_queue(st.backend, name)
    if ask:
        preview = clear_queue(st.backend, name, batch_size=batch_size, dry_run=True)
        if preview.matched:
            confirm.ask(f"Discard {plural(preview.matched, 'ready job')} from queue {name!r}? This cannot be undone.")
    from ..render import progress_bar

    total = preview.matched if ask else None
    with progress_bar(st, total, verb=f"clearing {name}", enabled=not dry_run) as advance:
        result = clear_queue(st.backend, name, batch_size=batch_size, dry_run=dry_run, progress=advance)
    bulk(st, result, verb="discard", past="discarded")


def register(app: typer.Typer) -> None:
    queues = group(app, "queues", HELP, panel="Operate")
    command(queues, "list", list_)
    command(queues, "show", show)
    command(queues, "pause", pause)
    command(queues, "resume", resume)
    command(queues, "clear", clear)
