"""What every command shares: registration, one-line failures, and messages on stderr.

``guarded`` makes a command keep the error contract by itself, whichever way
it is called (the ``djq`` program, ``manage.py djq`` or a test runner): a
failed operation prints ``djq: error: ...`` and exits 1; a bad value that
only the command can parse (JSON, a duration, a time) exits 2; ``-vv``
lets the exception through for a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import NoReturn

import typer
from typer.exceptions import TyperException

from ..context import State

USAGE = 2
FAILED = 1


def say(text: str) -> None:
    """A message for people, on stderr, never wrapped."""
    sys.stderr.write(text.rstrip("\n") + "\n")
    sys.stderr.flush()


def new_job(st: State, job_id: int, *, message: str, **document: object) -> None:
    """Report a job a command enqueued: its id on stdout (or JSON), the sentence on a terminal."""
    if st.json:
        from ..context import print_json

        print_json({"id": job_id, **document})
        return
    typer.echo(job_id)
    if st.interactive:
        say(message)


def fail(text: str, *, code: int = FAILED) -> NoReturn:
    say(f"djq: error: {text}")
    raise typer.Exit(code)


def usage(text: str) -> NoReturn:
    fail(text, code=USAGE)


def _state_of(args: tuple, kwargs: dict) -> State | None:
    for value in (*args, *kwargs.values()):
        if hasattr(value, "find_object"):  # the command's click context
            return value.find_object(State)
    return None


def guarded(func: Callable) -> Callable:
    @functools.wraps(func)
    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except typer.BadParameter as exc:
            usage(exc.message)
        except (typer.Exit, typer.Abort, TyperException, KeyboardInterrupt):
            raise
        except Exception as exc:
            st = _state_of(args, kwargs)
            if st is not None and st.verbose >= 2:
                raise
            from ..errors import describe

            fail(describe(exc))

    return run


def command(app: typer.Typer, name: str, func: Callable, *, panel: str | None = None) -> None:
    """Add ``func`` to ``app`` as ``name``, keeping the error contract."""
    app.command(name, rich_help_panel=panel)(guarded(func))


def group(app: typer.Typer, name: str, help: str, *, panel: str) -> typer.Typer:
    """A noun with its own verbs (``djq queues ...``)."""
    sub = typer.Typer(help=help, no_args_is_help=True, rich_markup_mode="rich",
                      context_settings={"help_option_names": ["-h", "--help"]})
    app.add_typer(sub, name=name, rich_help_panel=panel)
    return sub
