"""``djq jobs``: list and show jobs; retry, discard or enqueue them again."""

from __future__ import annotations

from typing import Annotated

import typer

from djq.states import ALL as ALL_STATES
from djq.states import DISCARDABLE

from ..context import state
from ..parsing import duration, moment
from .base import command, fail, group, usage

HELP = """List and inspect jobs; retry failed ones, discard waiting ones, enqueue copies.

Examples:

  djq jobs list --state failed --queue emails

  djq jobs show 4211

  djq jobs retry --all --exception TimeoutError --yes
"""

STATES = tuple(str(s) for s in ALL_STATES)
COLUMNS = [("id", "ID"), ("queue_name", "Queue"), ("task_path", "Task"), ("state", "State"),
           ("priority", "Priority"), ("attempts", "Attempts"), ("enqueued_at", "Enqueued"),
           ("finished_at", "Finished"), ("last_error", "Last error")]
_ONE_LINE = {"no_wrap": True}
#: What fits a terminal; `jobs show` and piped output have the rest.
TERMINAL = [("id", "ID", _ONE_LINE), ("queue_name", "Queue", _ONE_LINE), ("task_path", "Task", {"min_width": 16}),
            ("state", "State", _ONE_LINE), ("attempts", "Tries", _ONE_LINE), ("enqueued_at", "Enqueued", _ONE_LINE),
            ("last_error", "Last error", {"fill": True})]

Queue = Annotated[str | None, typer.Option("--queue", help="Only this queue.", show_default=False)]
Task = Annotated[str | None, typer.Option("--task", help="Only this task path.", show_default=False)]
Exception_ = Annotated[str | None, typer.Option(
    "--exception", help="Only jobs whose last error is this exception class (name or dotted path).",
    show_default=False)]
OlderThan = Annotated[str | None, typer.Option(
    "--older-than", help="Only jobs older than this (7d, 12h, 90s): finished ones by finish time, others by "
    "enqueue time.", show_default=False)]
Ids = Annotated[list[int] | None, typer.Argument(help="Job ids.", show_default=False)]
All = Annotated[bool, typer.Option("--all", help="Every job matching the filters instead of ids.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (needed when not on a terminal).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Report what would change; change nothing.")]
BatchSize = Annotated[int, typer.Option("--batch-size", min=1, help="Jobs changed per transaction.")]
JobId = Annotated[int, typer.Argument(help="The job id.")]


def _states(values: list[str] | None, *, allowed: tuple[str, ...] = STATES) -> tuple[str, ...]:
    chosen = tuple(s.strip() for v in values or () for s in v.split(",") if s.strip())
    for s in chosen:
        if s not in allowed:
            usage(f"--state: unknown state {s!r}; choose from {', '.join(allowed)}")
    return chosen


def _filter(st, *, ids=(), states=(), queue=None, task=None, exception=None, older_than=None):
    """Parse the filter options, set Django up, and build the JobFilter."""
    age = duration(older_than, option="--older-than") if older_than else None
    st.backend_object()
    from djq.ops.jobs import JobFilter

    return JobFilter(backend_alias=st.backend, ids=tuple(ids), states=states, queue=queue, task_path=task,
                     exception_class=exception, older_than=age)


def _targets(ids: list[int] | None, all_: bool, **filters) -> None:
    if ids and all_:
        usage("give job ids or --all, not both")
    if not ids and not all_:
        usage("give one or more job ids, or --all with filters")
    if ids and any(v for v in filters.values()):
        given = [f"--{k.replace('_', '-')}" for k, v in filters.items() if v]
        usage(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} only with --all")


def _describe(flt) -> str:
    parts = [f"{name} {value}" for name, value in (("queue", flt.queue), ("task", flt.task_path),
                                                   ("exception", flt.exception_class)) if value]
    if flt.older_than is not None:
        from ..humanize_time import duration as words

        parts.append(f"older than {words(flt.older_than)}")
    if flt.ids:
        shown = ", ".join(str(i) for i in flt.ids[:10])
        parts.append(f"ids {shown}{', ...' if len(flt.ids) > 10 else ''}")
    return f" ({'; '.join(parts)})" if parts else ""


def list_(
    ctx: typer.Context,
    queue: Queue = None,
    state_: Annotated[list[str] | None, typer.Option(
        "--state", "-s", help=f"Only these states ({', '.join(STATES)}); repeat or separate with commas.",
        show_default=False)] = None,
    task: Task = None,
    exception: Exception_ = None,
    text: Annotated[str | None, typer.Option(
        "--text", help="Only jobs whose last error message contains this (any case).", show_default=False)] = None,
    older_than: OlderThan = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many jobs.")] = 50,
    after: Annotated[str | None, typer.Option(
        "--after", help="The next page: the cursor printed below the previous one.", show_default=False)] = None,
    before: Annotated[str | None, typer.Option(
        "--before", help="The previous page: the cursor printed below the next one.", show_default=False)] = None,
) -> None:
    """List jobs: one state in its own order, or several (or all) newest first.

    Failed and finished jobs come newest first, scheduled ones by due time,
    ready ones in the order workers take them (priority, then age). On a
    terminal, a line below the table gives the number of matching jobs
    (exact up to 10,000) and the cursors of the pages around this one.

    Examples:

      djq jobs list --state failed --exception TimeoutError

      djq jobs list --queue emails --task myapp.tasks.send_email --limit 20

      djq jobs list --state finished --older-than 7d --after finished.1764633600000000.4100
    """
    st = state(ctx)
    if after and before:
        usage("give --after or --before, not both")
    states = _states(state_)
    age = duration(older_than, option="--older-than") if older_than else None
    st.backend_object()
    from djq.ops.jobs import job_page
    from djq.ops.pages import InvalidCursor

    from ..render import listing

    try:
        page = job_page(st.backend, states or None, queue=queue, task_path=task, exception_class=exception,
                        text=text, older_than=age, after=after, before=before, limit=limit)
    except InvalidCursor as exc:
        usage(f"{'--after' if after else '--before'}: {exc}")
    listing(st, list(page.rows), COLUMNS, terminal=TERMINAL)
    if st.interactive:
        from .base import say

        say(_page_line(page))


def _page_line(page) -> str:
    noun = "job" if page.count.value == 1 and not page.count.capped else "jobs"
    line = f"{page.count} {noun} match; showing {len(page.rows)}"
    if page.next_cursor:
        line += f"; next page: --after {page.next_cursor}"
    if page.previous_cursor:
        line += f"; previous page: --before {page.previous_cursor}"
    return line


def show(ctx: typer.Context, job_id: JobId) -> None:
    """Show one job: its arguments, result, and every attempt with its error.

    Examples:

      djq jobs show 4211

      djq --json jobs show 4211
    """
    st = state(ctx)
    st.backend_object()
    from djq.ops.jobs import get_job

    from ..render import detail

    d = get_job(st.backend, job_id)
    j = d.job
    fields = [("id", j.id), ("task", j.task_path), ("state", j.state), ("queue", j.queue_name),
              ("priority", j.priority), ("args", d.args), ("kwargs", d.kwargs), ("return_value", d.return_value),
              ("attempts", j.attempts), ("enqueued_at", j.enqueued_at), ("scheduled_at", j.scheduled_at),
              ("started_at", j.started_at), ("finished_at", j.finished_at), ("worker", j.worker_id),
              ("concurrency_key", j.concurrency_key), ("recurring_key", d.recurring_key), ("last_error", j.last_error)]
    history = [(a.number, a.worker_id, a.started_at, a.finished_at,
                None if a.duration is None else round(a.duration, 3),
                f"{a.error_class}: {a.error_message}" if a.error_class else None) for a in d.history]
    columns = [("number", "#"), ("worker", "Worker"), ("started", "Started"), ("finished", "Finished"),
               ("seconds", "Seconds"), ("error", "Error")]
    detail(st, d, fields, title=f"Job {j.id}", sections=[("Attempts", columns, history)] if history else ())


def retry(
    ctx: typer.Context,
    ids: Ids = None,
    all_: All = False,
    queue: Queue = None,
    task: Task = None,
    exception: Exception_ = None,
    older_than: OlderThan = None,
    at: Annotated[str | None, typer.Option(
        "--at", help="Run them at this time (ISO 8601, or +30s / +15m) instead of now.", show_default=False)] = None,
    dry_run: DryRun = False,
    yes: Yes = False,
    batch_size: BatchSize = 1000,
) -> None:
    """Run failed jobs again, keeping their attempt history.

    One id runs at once; several ids or --all ask first on a terminal and
    need --yes without one.

    Examples:

      djq jobs retry 4211

      djq jobs retry --all --queue emails --dry-run

      djq jobs retry --all --exception TimeoutError --at +10m --yes
    """
    st = state(ctx)
    _targets(ids, all_, queue=queue, task=task, exception=exception, older_than=older_than)
    when = moment(at, option="--at") if at else None
    single = bool(ids) and len(set(ids)) == 1
    ask = _consent("retry", ids, single=single, dry_run=dry_run, yes=yes)
    flt = _filter(st, ids=ids or (), queue=queue, task=task, exception=exception, older_than=older_than)
    _run_bulk(st, flt, single=single, ask=ask, dry_run=dry_run, batch_size=batch_size, kind="retry",
              extra={"at": when})


def discard(
    ctx: typer.Context,
    ids: Ids = None,
    all_: All = False,
    state_: Annotated[list[str] | None, typer.Option(
        "--state", "-s", help="With --all: only these states (ready, scheduled, blocked, failed).",
        show_default=False)] = None,
    queue: Queue = None,
    task: Task = None,
    exception: Exception_ = None,
    older_than: OlderThan = None,
    dry_run: DryRun = False,
    yes: Yes = False,
    batch_size: BatchSize = 1000,
) -> None:
    """Delete jobs that are waiting or failed; running and finished jobs are skipped.

    One id goes at once; several ids or --all ask first on a terminal and
    need --yes without one.

    Examples:

      djq jobs discard 4211

      djq jobs discard --all --state failed --older-than 30d --dry-run

      djq jobs discard 4211 4212 4213 --yes
    """
    st = state(ctx)
    states = _states(state_, allowed=tuple(str(s) for s in DISCARDABLE))
    _targets(ids, all_, state=states, queue=queue, task=task, exception=exception, older_than=older_than)
    single = bool(ids) and len(set(ids)) == 1
    ask = _consent("discard", ids, single=single, dry_run=dry_run, yes=yes)
    flt = _filter(st, ids=ids or (), states=states, queue=queue, task=task, exception=exception,
                  older_than=older_than)
    _run_bulk(st, flt, single=single, ask=ask, dry_run=dry_run, batch_size=batch_size, kind="discard", extra={})


_KINDS = {
    # verb, past tense, what the prompt counts, why a single job is left alone
    "retry": ("retry", "retried", "failed job", "is not failed; only failed jobs can be retried"),
    "discard": ("discard", "discarded", "job", "is running or finished and cannot be discarded"),
}


def _consent(kind: str, ids: list[int] | None, *, single: bool, dry_run: bool, yes: bool) -> bool:
    """Whether to ask; refuses before any database work when nobody can answer."""
    from .. import confirm

    what = f"{len(set(ids))} jobs" if ids else "every matching job"
    return not single and not dry_run and confirm.needed(f"{kind} {what}", yes=yes)


def _run_bulk(st, flt, *, single: bool, ask: bool, dry_run: bool, batch_size: int, kind: str, extra: dict) -> None:
    from djq.ops import jobs as ops

    from .. import confirm
    from ..render import bulk, plural

    verb, past, counted, refused = _KINDS[kind]

    operation = getattr(ops, kind)
    if ask:
        preview = operation(flt, batch_size=batch_size, dry_run=True, **extra)
        if preview.matched:
            note = " This cannot be undone." if kind == "discard" else ""
            confirm.ask(f"{verb.capitalize()} {plural(preview.matched, counted)}{_describe(flt)}?{note}")
    result = operation(flt, batch_size=batch_size, dry_run=dry_run, **extra)
    if single and not result.matched:
        if result.reasons.get("not found"):
            fail(f"no job {flt.ids[0]} in backend {flt.backend_alias!r}")
        fail(f"job {flt.ids[0]} {refused}")
    bulk(st, result, verb=verb, past=past)
    if result.reasons.get("not found"):
        raise typer.Exit(1)


def enqueue_again(ctx: typer.Context, job_id: JobId) -> None:
    """Enqueue a fresh copy of a job (same task, arguments, queue and priority) and print its id.

    Examples:

      djq jobs enqueue-again 4211

      djq --json jobs enqueue-again 4211
    """
    st = state(ctx)
    st.backend_object()
    from djq.ops.jobs import enqueue_again as again

    from .base import new_job

    new_id = again(st.backend, job_id)
    new_job(st, new_id, message=f"enqueued job {new_id}, a copy of job {job_id}", source_id=job_id)


def register(app: typer.Typer) -> None:
    jobs = group(app, "jobs", HELP, panel="Operate")
    command(jobs, "list", list_)
    command(jobs, "show", show)
    command(jobs, "retry", retry)
    command(jobs, "discard", discard)
    command(jobs, "enqueue-again", enqueue_again)
