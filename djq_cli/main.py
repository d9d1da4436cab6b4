"""The ``djq`` command: operate a djq task queue from a terminal.

Importing this module must stay cheap: ``djq --help`` sets up no Django and
imports no Textual. Commands set Django up on first use through ``State``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from . import __version__
from .commands import register_commands
from .context import State


def _no_type_placeholders() -> None:
    """Help shows ``--json`` rather than ``--json <bool>``, and ``--state STATE`` rather than ``<list[str]>``.

    Typer prints a type for every option; a flag has none to give, and the
    others read better as Click's words (``TEXT``, ``INTEGER``) or their ``metavar``.
    """
    from typer.core import TyperArgument, TyperOption

    words = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER"}

    def option_type(self, ctx):
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:
            return self.metavar
        bare = self.bare_type()
        many = bare.startswith("list[")
        word = words.get(bare.removeprefix("list[").removesuffix("]"), "VALUE")
        return f"{word}..." if many else word

    def argument_type(self, ctx):
        return None  # the argument's name already says what it is

    TyperOption.display_type_rich = option_type
    TyperArgument.display_type_rich = argument_type


_no_type_placeholders()

app = typer.Typer(
    name="djq",
    help="Operate a djq task queue: run workers, inspect and act on queues, jobs and schedules.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"djq {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    settings: Annotated[str | None, typer.Option(
        "--settings", help="Django settings module (else DJANGO_SETTINGS_MODULE).", show_default=False)] = None,
    pythonpath: Annotated[str | None, typer.Option(
        "--pythonpath", help="A directory to add to the import path (default: the current one).")] = None,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", envvar="DJQ_DATABASE_URL", show_envvar=True,
        help="Operate this queue database without the application's settings (standalone mode).")] = None,
    backend: Annotated[str, typer.Option(
        "--backend", envvar="DJQ_BACKEND", help="The TASKS alias to operate.")] = "default",
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of a table.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (NO_COLOR also works).")] = False,
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="More detail; -vv shows tracebacks.")] = 0,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    st = ctx.ensure_object(State)
    st.settings, st.pythonpath, st.database_url = settings, pythonpath, database_url
    st.backend, st.json, st.no_color, st.verbose = backend, json_output, no_color, verbose


register_commands(app)


def main(argv: list[str] | None = None, *, prog_name: str = "djq", django_ready: bool = False) -> int:
    """Console entry point; returns the exit code."""
    from .errors import run_guarded

    args = sys.argv[1:] if argv is None else argv
    return run_guarded(lambda: app(args=args, prog_name=prog_name, obj=State(django_ready=django_ready),
                                   standalone_mode=False),
                       verbose=args.count("-v") + 2 * args.count("-vv") + args.count("--verbose"))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
