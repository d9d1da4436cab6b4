"""``djq tui``: the live terminal dashboard. Textual is imported only when this command runs."""

from __future__ import annotations

from typing import Annotated

import typer

from ..context import state
from .base import command, usage


def tui(
    ctx: typer.Context,
    refresh: Annotated[float, typer.Option(
        "--refresh", help="Seconds between refreshes (0.5 to 300); + and - change it, z pauses it.")] = 2.0,
    read_only: Annotated[bool, typer.Option(
        "--read-only", envvar="DJQ_TUI_READ_ONLY",
        help="Look, never touch: hide and refuse every action (also the DJQ_TUI_READ_ONLY setting).")] = False,
    theme: Annotated[str | None, typer.Option(
        "--theme", envvar="TEXTUAL_THEME", help="A Textual theme: textual-dark, textual-light, ansi-dark, ...",
        show_default=False)] = None,
) -> None:
    """The live dashboard: queues, jobs, processes, recurring tasks and semaphores, with their actions.

    Keys: 1-6 switch screens, : runs a command (:failed, :job 42, :q),
    / filters, enter drills down, esc goes back, ? lists every key,
    ctrl+p opens the command palette, q quits.

    Examples:

      djq tui

      djq tui --read-only --refresh 5

      djq --database-url postgres://queue-db/app tui
    """
    st = state(ctx)
    if not 0.5 <= refresh <= 300:
        usage("--refresh must be between 0.5 and 300 seconds")
    setup = st.django()
    st.backend_object()
    from django.conf import settings

    read_only = read_only or bool(getattr(settings, "DJQ_TUI_READ_ONLY", False))
    from ..tui import run

    run(st.backend, where=setup.description, read_only=read_only, interval=refresh, theme=theme)


def register(app: typer.Typer) -> None:
    command(app, "tui", tui, panel="Inspect")
