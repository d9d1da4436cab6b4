"""``djq health``: exit 0 when the backend has a live worker, 1 with the reason when not."""

from __future__ import annotations

from typing import Annotated

import typer

from ..context import print_json, state
from ..parsing import duration
from .base import command, say


def health(
    ctx: typer.Context,
    max_age: Annotated[str | None, typer.Option(
        "--max-age", help="A heartbeat older than this (90s, 5m) is stale; default: process_alive_threshold.",
        show_default=False)] = None,
) -> None:
    """Check that a worker is alive: exit 0 if so, else exit 1 with the reason on stderr.

    Healthy means at least one live process, a worker among them. Silent
    when healthy unless on a terminal or given -v; --json prints the details
    either way.

    Examples:

      djq health

      djq health --max-age 2m || alert "djq workers are down"

      djq --json health
    """
    st = state(ctx)
    limit = duration(max_age, option="--max-age") if max_age else None
    st.backend_object()
    from djq.ops.health import health as check

    result = check(st.backend, max_age=limit)
    if st.json:
        print_json(result)
    elif result.healthy and (st.verbose or st.interactive):
        say(result.reason)
    if not result.healthy:
        if not st.json:
            say(f"djq: unhealthy: {result.reason}")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    command(app, "health", health, panel="Inspect")
