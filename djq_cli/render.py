"""Shapes of output the commands share, beyond the listings of ``State.output``.

- ``detail``: one object (``show`` commands): aligned fields on a terminal,
  ``field<TAB>value`` lines when piped, the object itself with ``--json``.
- ``bulk``: what a bulk verb did, as ``{matched, changed, skipped, dry_run,
  ids}`` with ``--json``, else one summary line on stderr.
- ``changes``: idempotent verbs ("paused default", "default is already paused").
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from .commands.base import say
from .context import State, _human, _plain, print_json, to_jsonable


def on_terminal() -> bool:
    return sys.stdout.isatty()


def seconds(value: float | None) -> str:
    from .humanize_time import duration

    return duration(value)


def _when(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return _json(value)
    if isinstance(value, datetime):
        return f"{value.isoformat(sep=' ', timespec='seconds')} ({_human(value)})"
    return _human(value)


def _json(value: Any) -> str:
    import json

    return json.dumps(to_jsonable(value), sort_keys=True)


def detail(st: State, document: Any, fields: Sequence[tuple[str, Any]], *, title: str | None = None,
           sections: Sequence[tuple[str, Sequence[tuple[str, str]], Sequence[Sequence[Any]]]] = (),
           blocks: Sequence[tuple[str, str]] = ()) -> None:
    """Print one object. ``sections`` are (title, columns, rows) tables shown below the fields.

    ``blocks`` are (heading, text) shown as they are (tracebacks), on a terminal only: piped
    output and ``--json`` carry the same text in their fields.
    """
    if st.json:
        print_json(document)
        return
    if not on_terminal():
        for name, value in fields:
            text = _json(value) if isinstance(value, (list, dict)) else _plain(value)
            sys.stdout.write(f"{name}\t{text}\n")
        for heading, _columns, rows in sections:
            key = heading.lower().replace(" ", "_")
            if key in {name for name, _ in fields}:  # "attempts\t3" is a field; its rows are "attempt\t..."
                key = key.removesuffix("s")
            for row in rows:
                sys.stdout.write("\t".join([key, *(_plain(v) for v in row)]) + "\n")
        return
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in fields:
        grid.add_row(name.replace("_", " "), _when(value))
    if title:
        st.console.print(title, style="bold", markup=False, highlight=False)
    st.console.print(grid)
    for heading, columns, rows in sections:
        table = Table(title=heading, title_justify="left", header_style="bold", show_edge=False, pad_edge=False)
        for _, label in columns:
            table.add_column(label, overflow="fold")
        for row in rows:
            table.add_row(*(_human(v) for v in row))
        st.console.print()
        st.console.print(table)
    for heading, text in blocks:
        st.console.print()
        st.console.print(heading, style="bold", markup=False, highlight=False)
        st.console.print(text.rstrip("\n"), markup=False, highlight=False, soft_wrap=True)


def listing(st: State, rows: Sequence[Any], columns: Sequence[tuple], *, document: Any = None,
            terminal: Sequence[tuple] | None = None, header: bool = False) -> None:
    """``State.output`` with a layout per column on a terminal.

    ``terminal`` (default: ``columns``) picks the columns a person sees, as
    (attribute, heading) or (attribute, heading, options): Rich column
    options, plus ``fill`` for the one column that gets the width left over
    and ends in an ellipsis rather than folding every row into a tower.
    Piped output keeps every column of ``columns``, after a header line of their names if ``header``.
    """
    if st.json or not on_terminal():
        st.output(rows, [(c[0], c[1]) for c in columns], document=document, header=header)
        return
    from rich.table import Table

    columns = terminal or columns
    options = [dict(c[2]) if len(c) > 2 else {} for c in columns]
    cells = [[_human(row.get(c[0]) if isinstance(row, dict) else getattr(row, c[0], None)) for c in columns]
             for row in rows]
    for index, opts in enumerate(options):
        if opts.pop("fill", False):
            others = sum(max([len(columns[i][1]), *(len(r[i]) for r in cells)]) + 3
                         for i in range(len(columns)) if i != index)
            room = max(12, st.console.width - others)
            for r in cells:
                if len(r[index]) > room:
                    r[index] = r[index][: room - 1] + "…"
    table = Table(header_style="bold", show_edge=False, pad_edge=False)
    for column, opts in zip(columns, options, strict=True):
        table.add_column(column[1], **{"overflow": "fold", **opts})
    for r in cells:
        table.add_row(*r)
    st.console.print(table)


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else words or word + 's'}"


def bulk(st: State, result: Any, *, verb: str, past: str, noun: str = "job") -> None:
    """Report a ``BulkResult``: the JSON document, or one summary line on stderr."""
    if st.json:
        print_json(result)
        return
    reasons = ", ".join(f"{why}: {n}" for why, n in sorted(result.reasons.items()))
    counts = f"matched {result.matched}, changed {result.changed}, skipped {result.skipped}"
    if reasons:
        counts += f" ({reasons})"
    if result.dry_run:
        say(f"dry run: would {verb} {plural(result.matched, noun)}; {counts}")
    else:
        say(f"{past} {plural(result.changed, noun)}; {counts}")


def changes(st: State, items: Sequence[Any]) -> None:
    """Report idempotent verbs: a JSON list of {name, changed, message}, else one line each on stderr."""
    if st.json:
        print_json([to_jsonable(c) for c in items])
        return
    for change in items:
        say(change.message)


@contextmanager
def progress_bar(st: State, total: int | None, *, verb: str, enabled: bool = True):
    """A Rich progress bar on stderr for a long bulk verb, on a terminal only; yields the per-batch callback.

    Piped or with ``--json`` it yields None: no bar, nothing on stderr but the summary.
    """
    if not enabled or st.json or not sys.stderr.isatty() or total == 0:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [TextColumn(f"{verb}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=st.err, transient=True) as bar:
        task = bar.add_task(verb, total=total)
        yield lambda n: bar.advance(task, n)
