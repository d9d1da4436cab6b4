"""``djq prune``: the retention policy, for cron: delete old jobs and recurring executions in batches."""

from __future__ import annotations

from typing import Annotated

import typer

from ..context import print_json, state, to_jsonable
from ..parsing import duration
from .base import command, say


def prune(
    ctx: typer.Context,
    older_than: Annotated[str | None, typer.Option(
        "--older-than", help="Delete finished and discarded jobs older than this (7d, 12h, 3600); "
        "default: clear_finished_jobs_after.", show_default=False)] = None,
    failed_older_than: Annotated[str | None, typer.Option(
        "--failed-older-than", help="Delete failed jobs older than this; default: clear_failed_jobs_after "
        "(unset keeps them).", show_default=False)] = None,
    recurring_older_than: Annotated[str | None, typer.Option(
        "--recurring-older-than", help="Delete recurring-execution records older than this; default: "
        "clear_recurring_executions_after (unset keeps them).", show_default=False)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Rows deleted per transaction.")] = 1000,
    max_batches: Annotated[int, typer.Option(
        "--max-batches", min=1, help="Stop after this many batches; the next run goes on.")] = 100,
    task_path: Annotated[str | None, typer.Option(
        "--task-path", help="Only jobs of this task.", show_default=False)] = None,
    task_key: Annotated[str | None, typer.Option(
        "--task-key", help="Only executions of this recurring task.", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")] = False,
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="Print the counts on stderr.")] = 0,
) -> None:
    """Delete finished, failed and discarded jobs and recurring executions past their retention.

    Made for cron: prints nothing when it succeeds (-v prints the counts,
    --json a summary), exits non-zero with one line when it fails, and is
    safe to run again. Each batch commits on its own; when --max-batches
    stops it with rows left, it says so on stderr and the next run goes on.
    Ages default to the backend's clear_* options.

    Examples:

      djq prune

      djq prune --older-than 7d --failed-older-than 30d -v

      djq prune --dry-run --older-than 12h --task-path myapp.tasks.ping

      */10 * * * *  djq prune --batch-size 500 --max-batches 20
    """
    st = state(ctx)
    given = {kind: duration(text, option=option) if text is not None else None
             for kind, text, option in (("finished", older_than, "--older-than"),
                                        ("failed", failed_older_than, "--failed-older-than"),
                                        ("recurring_executions", recurring_older_than, "--recurring-older-than"))}
    st.backend_object()
    from djq.ops.maintenance import prune as prune_rows
    from djq.ops.maintenance import retention_defaults

    defaults = retention_defaults(st.backend)
    ages = {kind: given[kind] if given[kind] is not None else defaults[kind] for kind in given}
    from ..render import progress_bar

    # Cron runs stay silent: a bar only with -v, on a terminal, and never for --json or a dry run.
    with progress_bar(st, None, verb="pruning", enabled=bool(verbose or st.verbose) and not dry_run) as advance:
        result = prune_rows(st.backend, finished_older_than=ages["finished"],
                            failed_older_than=ages["failed"], recurring_older_than=ages["recurring_executions"],
                            task_path=task_path, task_key=task_key, batch_size=batch_size, max_batches=max_batches,
                            dry_run=dry_run, progress=advance)
    if st.json:
        print_json({**to_jsonable(result), "total": result.total, "older_than": ages})
    elif verbose or st.verbose or dry_run:
        say(_summary(result, ages))
    if result.more_remaining:
        say(f"djq prune: stopped after {result.batches} batches of {batch_size} with more rows left; "
            "the next run goes on (or raise --max-batches)")


def _summary(result, ages: dict) -> str:
    from ..humanize_time import duration as words
    from ..render import plural

    parts = []
    for kind, count, noun in (("finished", result.finished, "finished or discarded job"),
                              ("failed", result.failed, "failed job"),
                              ("recurring_executions", result.recurring_executions, "recurring execution")):
        age = ages[kind]
        parts.append(f"{plural(count, noun)} (older than {words(age) if age >= 1 else f'{age:g} seconds'})"
                     if age is not None
                     else f"no {noun}s (kept: no retention set)")
    head = "dry run: would delete" if result.dry_run else "deleted"
    return f"{head} {'; '.join(parts)}; {plural(result.batches, 'batch', 'batches')}"


def register(app: typer.Typer) -> None:
    command(app, "prune", prune, panel="Maintain")
