"""``djq stats``: the backend's snapshot as one JSON document (what /stats.json serves)."""

from __future__ import annotations

import typer

from ..context import print_json, state
from .base import command


def stats(ctx: typer.Context) -> None:
    """Print a snapshot of the backend as JSON: totals, queues, processes, recurring tasks, semaphores.

    Always JSON (for a screen to read, see `djq status`); times are ISO 8601 UTC.

    Examples:

      djq stats

      djq stats | jq '.totals.failed'
    """
    st = state(ctx)
    st.backend_object()
    from djq.ops.stats import snapshot

    print_json(snapshot(st.backend, max_age=0))


def register(app: typer.Typer) -> None:
    command(app, "stats", stats, panel="Inspect")
