"""``djq start``: run the supervisor and its workers, dispatchers and scheduler."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from ..context import state

PANEL = "Run"


def configure_logging(verbose: int) -> None:
    """Show djq's runtime log on stderr unless the project configured the ``djq`` logger itself."""
    from djq.runtime.procline import ProcessNameFilter

    log = logging.getLogger("djq")
    if log.handlers:
        return
    handler = logging.StreamHandler()
    handler.addFilter(ProcessNameFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(djq_process)s: %(message)s",
                                           "%Y-%m-%d %H:%M:%S"))
    log.addHandler(handler)
    log.propagate = False
    if log.level == logging.NOTSET or log.level > logging.INFO:
        log.setLevel(logging.DEBUG if verbose else logging.INFO)


def start(
    ctx: typer.Context,
    mode: Annotated[str | None, typer.Option("--mode", help="fork (a process per runner) or async (threads).",
                                             show_default=False)] = None,
    only_work: Annotated[bool, typer.Option("--only-work", help="Run workers only.")] = False,
    only_dispatch: Annotated[bool, typer.Option("--only-dispatch", help="Run dispatchers only.")] = False,
    skip_recurring: Annotated[bool | None, typer.Option(
        "--skip-recurring/--with-recurring", help="Do not run the scheduler (recurring tasks, retention).",
        show_default=False)] = None,
    config: Annotated[str | None, typer.Option(
        "--config", help="YAML file overlaying TASKS options (else DJQ_CONFIG).", show_default=False)] = None,
    migration_wait_timeout: Annotated[float, typer.Option(
        "--migration-wait-timeout", help="Seconds to wait for pending djq migrations; 0 fails at once.")] = 60.0,
) -> None:
    """Run the queue runtime for one backend until SIGTERM or Ctrl-C.

    SIGTERM and SIGINT drain (running jobs get `shutdown_timeout` seconds to
    finish); SIGQUIT stops at once.

    Examples:

      djq start

      djq --settings mysite.settings start --mode async --only-work

      DJQ_CONFIG=/etc/djq.yml djq start --backend critical
    """
    if only_work and only_dispatch:
        raise typer.BadParameter("--only-work and --only-dispatch exclude each other")
    st = state(ctx)
    configure_logging(st.verbose)
    setup = st.django()
    from djq.config import get_config, skip_recurring_from_env
    from djq.runtime.launch import build_supervisor

    overrides = {"mode": mode} if mode else None
    cfg = get_config(st.backend, config_file=config, overrides=overrides)
    skip = skip_recurring if skip_recurring is not None else bool(skip_recurring_from_env(os.environ))
    logging.getLogger("djq.runtime").info("using %s", setup.description)
    supervisor = build_supervisor(cfg, only_work=only_work, only_dispatch=only_dispatch, skip_recurring=skip,
                                  migration_wait_timeout=migration_wait_timeout)
    raise typer.Exit(supervisor.run())


def register(app: typer.Typer) -> None:
    app.command("start", rich_help_panel=PANEL)(start)
