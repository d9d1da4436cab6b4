"""What every command shares: registration, one-line failures, and messages on stderr.

``guarded`` makes a command keep the error contract by itself, whichever way
it is called (the ``djq`` program, ``manage.py djq`` or a test runner): a
failed operation prints ``djq: error: ...`` and exits 1; a bad value that
only the command can parse (JSON, a duration, a time) exits 2; ``-vv``
lets the exception through for a traceback.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Annotated, NoReturn

import typer
from typer.exceptions import TyperException

from ..context import State

USAGE = 2
FAILED = 1


def say(text: str) -> None:
    """A message for people, on stderr, never wrapped."""
    sys.stderr.write(text.rstrip("\n") + "\n")
    sys.stderr.flush()


def one_line(text: str) -> str:
    """A message folded onto one line (an error must never take a screen)."""
    return " ".join(part.strip() for part in str(text).strip().splitlines() if part.strip())


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
    say(f"djq: error: {one_line(text)}")
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
        except BrokenPipeError:
            from ..errors import quiet_broken_pipe

            raise typer.Exit(quiet_broken_pipe()) from None
        except (typer.Exit, typer.Abort, TyperException, KeyboardInterrupt):
            raise
        except Exception as exc:
            st = _state_of(args, kwargs)
            if st is not None and st.verbose >= 2:
                raise
            from ..errors import describe

            fail(describe(exc))

    return run


#: The output options of the root, also accepted after the command (``djq jobs list --json``).
GLOBAL_OPTIONS = {
    "global_json": inspect.Parameter(
        "global_json", inspect.Parameter.KEYWORD_ONLY, default=False,
        annotation=Annotated[bool, typer.Option("--json", hidden=True, help="Same as djq --json.")]),
    "global_no_color": inspect.Parameter(
        "global_no_color", inspect.Parameter.KEYWORD_ONLY, default=False,
        annotation=Annotated[bool, typer.Option("--no-color", hidden=True, help="Same as djq --no-color.")]),
    "global_verbose": inspect.Parameter(
        "global_verbose", inspect.Parameter.KEYWORD_ONLY, default=0,
        annotation=Annotated[int, typer.Option("-v", "--verbose", count=True, hidden=True,
                                               help="Same as djq -v.")]),
}


def with_global_options(func: Callable) -> Callable:
    """Accept ``--json``, ``--no-color`` and ``-v`` after the command too, as gh and kubectl do.

    The command declares them as hidden options (so the parser knows their
    arity) and folds them into the shared ``State`` before it runs.
    """
    signature = inspect.signature(func, eval_str=True)
    taken = set()
    for param in signature.parameters.values():
        for meta in getattr(param.annotation, "__metadata__", ()):
            taken.update(getattr(meta, "param_decls", None) or ())
    extra = {name: p for name, p in GLOBAL_OPTIONS.items()
             if not set(p.annotation.__metadata__[0].param_decls) & taken}

    @functools.wraps(func)
    def run(*args, **kwargs):
        values = {name: kwargs.pop(name) for name in extra if name in kwargs}
        st = _state_of(args, kwargs)
        if st is not None:
            st.json = st.json or bool(values.get("global_json"))
            st.no_color = st.no_color or bool(values.get("global_no_color"))
            st.verbose += int(values.get("global_verbose") or 0)
        return func(*args, **kwargs)

    run.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *extra.values()])
    run.__annotations__ = {**getattr(func, "__annotations__", {}), **{n: p.annotation for n, p in extra.items()}}
    return run


def command(app: typer.Typer, name: str, func: Callable, *, panel: str | None = None) -> None:
    """Add ``func`` to ``app`` as ``name``, keeping the error contract and taking the global output options."""
    app.command(name, rich_help_panel=panel)(with_global_options(guarded(func)))


def group(app: typer.Typer, name: str, help: str, *, panel: str) -> typer.Typer:
    """A noun with its own verbs (``djq queues ...``)."""
    sub = typer.Typer(help=help, no_args_is_help=True, rich_markup_mode="rich",
                      context_settings={"help_option_names": ["-h", "--help"]})
    app.add_typer(sub, name=name, rich_help_panel=panel)
    return sub
