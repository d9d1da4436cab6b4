"""State shared by every command: global options, lazy Django set-up, and the output contract.

Output contract: a Rich table on a terminal; tab-separated values with ISO
times when piped; one JSON document with ``--json``. Messages and progress
go to stderr. Exit codes: 0 ok, 1 failed or unhealthy, 2 usage error.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import typer


@dataclass
class State:
    settings: str | None = None
    pythonpath: str | None = None
    database_url: str | None = None
    backend: str = "default"
    json: bool = False
    no_color: bool = False
    verbose: int = 0
    django_ready: bool = False
    setup: Any = None
    _console: Any = field(default=None, repr=False)
    _err: Any = field(default=None, repr=False)

    def django(self):
        """Set Django up on first use (``--help`` never gets here)."""
        if self.setup is None:
            if self.django_ready:
                from .bootstrap import PROJECT, Setup

                self.setup = Setup(PROJECT, "settings " + os.environ.get("DJANGO_SETTINGS_MODULE", "?"))
            else:
                from .bootstrap import setup_django

                self.setup = setup_django(settings=self.settings, pythonpath=self.pythonpath,
                                          database_url=self.database_url)
        return self.setup

    def backend_object(self):
        self.django()
        from django.tasks import task_backends

        from djq.config import get_config

        get_config(self.backend)  # one clear error for an unknown or non-djq alias
        return task_backends[self.backend]

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(no_color=self.no_color or "NO_COLOR" in os.environ, soft_wrap=False)
        return self._console

    @property
    def err(self):
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, no_color=self.no_color or "NO_COLOR" in os.environ,
                                highlight=False)
        return self._err

    @property
    def interactive(self) -> bool:
        return sys.stdout.isatty() and not self.json

    def message(self, text: str) -> None:
        """A human message, on stderr."""
        self.err.print(text, markup=False)

    def output(self, rows: Sequence[Any], columns: Sequence[tuple[str, str]], *, title: str | None = None,
               document: Any = None) -> None:
        """Print a listing in the form the contract asks for."""
        if self.json:
            print_json(document if document is not None else [to_jsonable(r) for r in rows])
            return
        values = [[r.get(attr) if isinstance(r, dict) else getattr(r, attr) for attr, _ in columns]
                  for r in rows]
        if sys.stdout.isatty():
            from rich.table import Table

            table = Table(title=title, header_style="bold", show_edge=False, pad_edge=False)
            for _, heading in columns:
                table.add_column(heading, overflow="fold")
            for row in values:
                table.add_row(*[_human(v) for v in row])
            self.console.print(table)
        else:
            for row in values:
                sys.stdout.write("\t".join(_plain(v) for v in row) + "\n")


def state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State)


def to_jsonable(value: Any) -> Any:
    if hasattr(value, "__json__"):  # a capped Count: the number, or "10000+"
        return value.__json__()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(document), indent=2, sort_keys=False) + "\n")


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "__json__"):  # a capped Count: 10000+
        return str(value.__json__())
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value).replace("\t", " ").replace("\n", " ")


def _human(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        from .humanize_time import relative

        return relative(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    return _plain(value)

