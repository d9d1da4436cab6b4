"""``djq config show``: the effective configuration of a backend and where each option came from."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..context import state
from .base import command, group

HELP = """The configuration djq resolves from settings, a YAML file, the environment and defaults.

Examples:

  djq config show

  djq config show --config /etc/djq.yml
"""

COLUMNS = [("option", "Option"), ("value", "Value"), ("source", "Source")]


def show(
    ctx: typer.Context,
    config: Annotated[str | None, typer.Option(
        "--config", help="YAML file overlaying TASKS options (else DJQ_CONFIG).", show_default=False)] = None,
) -> None:
    """Show the effective options of the backend after precedence, and the source of each.

    Sources, lowest precedence first: default, settings (TASKS OPTIONS),
    yaml (--config or DJQ_CONFIG), env (DJQ_MODE).

    Examples:

      djq config show

      djq --backend critical config show --config /etc/djq.yml

      djq --json config show
    """
    st = state(ctx)
    st.django()
    from djq.config import get_config

    cfg = get_config(st.backend, config_file=config)
    options = cfg.to_options()
    sources = dict(cfg.sources)
    rows = [{"option": "queues", "value": json.dumps(list(cfg.queues)), "source": "settings" if cfg.queues
             else "default"}]
    rows += [{"option": name, "value": json.dumps(value, sort_keys=True, default=str),
              "source": sources.get(name, "default")} for name, value in options.items()]
    st.output(rows, COLUMNS, document={"backend": cfg.alias, "queues": list(cfg.queues), "options": options,
                                       "sources": sources})


def register(app: typer.Typer) -> None:
    cfg = group(app, "config", HELP, panel="Maintain")
    command(cfg, "show", show)
