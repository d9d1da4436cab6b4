"""``djq tui``: the live terminal dashboard (Textual).

Nothing outside ``djq tui`` imports this package, so the other commands
never load Textual. ``run`` starts the app for a backend whose Django is
already set up.
"""

from __future__ import annotations


def run(backend_alias: str, *, where: str, read_only: bool, interval: float, theme: str | None = None) -> None:
    from .app import DjqApp
    from .data import OpsSource

    DjqApp(OpsSource(backend_alias), where=where, read_only=read_only, interval=interval, theme=theme).run()
