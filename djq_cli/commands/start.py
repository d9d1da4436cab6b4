"""``djq start``: run the supervisor and its workers, dispatchers and scheduler."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from ..context import state

PANEL = "Run"


def _drop(record: logging.LogRecord) -> bool:
    return False


def configure_logging(verbose: int) -> None:
    """Show djq's runtime log on stderr unless the project configured the ``djq`` logger itself."""
    from djq.runtime.procline import ProcessNameFilter

    # djq logs every job event itself (``djq.job``: enqueued, started,
    # finished, failed, with the job id and the runner's name). Django's own
    # ``django.tasks`` lines for the same events would double each one (with
    # DEBUG = True Django's console handler shows them), so the runtime drops them.
    logging.getLogger("django.tasks").addFilter(_drop)
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


def quiet_django_task_log() -> None:
    """Switch off Django's own per-job lines (``django.tasks``) unless the project set that logger's level.

    Django logs every ``task_started``/``task_finished`` at INFO, which
    repeats djq's own ``djq.job`` lines (and, with nothing else listening,
    costs a ``TaskResult`` per event). ``LOGGING["loggers"]["django.tasks"]``
    with a level brings them back.
    """
    log = logging.getLogger("django.tasks")
    if log.level == logging.NOTSET:
        log.setLevel(logging.CRITICAL)


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

    Standalone (--database-url, no settings) runs no application code: it
    needs --only-dispatch (dispatchers and the scheduler), unless
    --pythonpath makes the tasks importable; a worker that claims a job
    whose code is missing hands it back untouched and stops claiming.

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
    from ..bootstrap import STANDALONE

    if setup.mode == STANDALONE and not only_dispatch and not st.pythonpath:
        from .base import usage

        usage("standalone mode (--database-url without --settings) has no application code, so its workers "
              "could not run any job; add --only-dispatch to run only dispatchers and the scheduler, or start "
              "workers with the project's settings (djq --settings mysite.settings start)")

    quiet_django_task_log()
    from djq.config import get_config, skip_recurring_from_env
    from djq.runtime.launch import build_supervisor

    overrides = {"mode": mode} if mode else None
    cfg = get_config(st.backend, config_file=config, overrides=overrides)
    skip = skip_recurring if skip_recurring is not None else bool(skip_recurring_from_env(os.environ))
    logging.getLogger("djq.runtime").info("using %s", setup.description)
    from ..bootstrap import EMBEDDED

    if setup.mode == EMBEDDED:
        _demo_hint(ctx)
    supervisor = build_supervisor(cfg, only_work=only_work, only_dispatch=only_dispatch, skip_recurring=skip,
                                  migration_wait_timeout=migration_wait_timeout)
    raise typer.Exit(supervisor.run())


def _demo_hint(ctx: typer.Context) -> None:
    """How to look at the running demo from another terminal (the program as it was called)."""
    import sys

    from .base import say

    program = sys.argv[0] if os.path.basename(sys.argv[0]) == "djq" else "djq"
    if os.path.isabs(program) and program.startswith(os.getcwd() + os.sep):
        program = os.path.relpath(program)
    commands = ctx.find_root().command.commands
    looks = [f"{program} status", f"{program} jobs list --state scheduled", f"{program} jobs list --state failed"]
    if "tui" in commands:
        looks.insert(0, f"{program} tui")
    say("djq demo: running on the embedded SQLite database; Ctrl-C stops it. From another terminal, look at it with:")
    for line in looks:
        say(f"    {line}")


def register(app: typer.Typer) -> None:
    from .base import with_global_options

    app.command("start", rich_help_panel=PANEL)(with_global_options(start))
