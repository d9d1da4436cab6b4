"""``djq recurring``: cron-scheduled tasks: list, show, schedule, unschedule, pause, resume, run now."""

from __future__ import annotations

from typing import Annotated

import typer

from ..context import print_json, state
from ..parsing import json_value
from .base import command, fail, group, new_job, say

HELP = """Recurring tasks: the cron-scheduled tasks from settings and those scheduled at run time.

Examples:

  djq recurring list

  djq recurring pause nightly-report

  djq recurring schedule cleanup --task myapp.tasks.cleanup --schedule "0 3 * * *"
"""

_ONE_LINE = {"no_wrap": True}
COLUMNS = [("key", "Key"), ("task_path", "Task"), ("schedule", "Schedule", _ONE_LINE),
           ("next_run_at", "Next run", _ONE_LINE), ("last_run_at", "Last run", _ONE_LINE),
           ("queue_name", "Queue", _ONE_LINE), ("paused", "Paused", _ONE_LINE), ("origin", "From", _ONE_LINE)]

Key = Annotated[str, typer.Argument(help="The recurring task's key.")]


def _origin(info) -> str:
    return "settings" if info.static else "dynamic"


def list_(ctx: typer.Context) -> None:
    """List recurring tasks with their schedules and next runs.

    Examples:

      djq recurring list

      djq --json recurring list
    """
    st = state(ctx)
    st.backend_object()
    from djq.ops.recurring import list_recurring

    tasks = list_recurring(st.backend)
    rows = [{"key": t.key, "task_path": t.task_path, "schedule": t.schedule, "next_run_at": t.next_run_at,
             "last_run_at": t.last_run_at, "queue_name": t.queue_name, "paused": t.paused, "origin": _origin(t)}
            for t in tasks]
    from ..render import listing

    listing(st, rows, COLUMNS, document=tasks)


def _fields(t) -> list[tuple[str, object]]:
    return [("key", t.key), ("task", t.task_path), ("schedule", t.schedule), ("runs", t.schedule_description),
            ("args", t.args), ("kwargs", t.kwargs), ("queue", t.queue_name), ("priority", t.priority),
            ("description", t.description), ("from", _origin(t)), ("paused", t.paused),
            ("next_run_at", t.next_run_at), ("last_run_at", t.last_run_at)]


def show(ctx: typer.Context, key: Key) -> None:
    """Show one recurring task.

    Examples:

      djq recurring show nightly-report

      djq --json recurring show nightly-report
    """
    st = state(ctx)
    st.backend_object()
    from djq.ops.recurring import get_recurring

    from ..render import detail

    info = get_recurring(st.backend, key)
    detail(st, info, _fields(info))


def schedule(
    ctx: typer.Context,
    key: Key,
    task: Annotated[str, typer.Option("--task", help="Dotted path of the task.", show_default=False)],
    cron: Annotated[str, typer.Option(
        "--schedule", help='Cron expression: five fields, six with seconds, or an @alias ("@hourly").',
        show_default=False)],
    args: Annotated[str, typer.Option("--args", help="Positional arguments as a JSON array.")] = "[]",
    kwargs: Annotated[str, typer.Option("--kwargs", help="Keyword arguments as a JSON object.")] = "{}",
    queue: Annotated[str, typer.Option("--queue", help="Queue of the jobs it enqueues.")] = "default",
    priority: Annotated[int, typer.Option("--priority", min=-100, max=100, help="-100 to 100.")] = 0,
    description: Annotated[str, typer.Option("--description", help="A note for people.")] = "",
) -> None:
    """Create or update a recurring task at run time (a dynamic one).

    Needs OPTIONS["scheduler"]["dynamic_tasks_enabled"] = True, and a
    scheduler to fire it. Keys of tasks from settings are refused.

    Examples:

      djq recurring schedule cleanup --task myapp.tasks.cleanup --schedule "0 3 * * *"

      djq recurring schedule ping --task myapp.tasks.ping --schedule @hourly --kwargs '{"url": "https://example.com"}'
    """
    st = state(ctx)
    parsed_args = json_value(args, option="--args", kind=list)
    parsed_kwargs = json_value(kwargs, option="--kwargs", kind=dict)
    st.backend_object()
    from djq.ops.recurring import schedule as schedule_task

    info = schedule_task(st.backend, key, task, cron, args=parsed_args, kwargs=parsed_kwargs, queue_name=queue,
                         priority=priority, description=description)
    if st.json:
        print_json(info)
    else:
        when = info.next_run_at.isoformat(timespec="seconds") if info.next_run_at else "never"
        say(f"scheduled {key}: {info.schedule_description}; next run {when}")


def unschedule(
    ctx: typer.Context,
    key: Key,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (needed when not on a terminal).")] = False,
) -> None:
    """Remove a dynamic recurring task (tasks from settings are removed in settings).

    Asks first on a terminal; without one, needs --yes.

    Examples:

      djq recurring unschedule cleanup

      djq recurring unschedule cleanup --yes
    """
    st = state(ctx)
    from .. import confirm

    ask = confirm.needed(f"unschedule {key}", yes=yes)
    st.backend_object()
    from djq.ops.recurring import get_recurring
    from djq.ops.recurring import unschedule as unschedule_task

    info = get_recurring(st.backend, key)
    if info.static:
        fail(f"{key!r} comes from settings; remove it from OPTIONS['recurring'] instead (or pause it)")
    if ask:
        confirm.ask(f"Unschedule {key!r} ({info.task_path}, {info.schedule})?")
    removed = unschedule_task(st.backend, key)
    if st.json:
        print_json({"key": key, "unscheduled": bool(removed)})
    else:
        say(f"unscheduled {key}" if removed else f"{key} was already unscheduled")


def pause(ctx: typer.Context, key: Key) -> None:
    """Stop a recurring task firing, without removing it. Pausing twice succeeds and says so.

    Examples:

      djq recurring pause nightly-report

      djq --json recurring pause nightly-report
    """
    _set_paused(ctx, key, True)


def resume(ctx: typer.Context, key: Key) -> None:
    """Let a paused recurring task fire again from its next slot (missed slots are skipped).

    Examples:

      djq recurring resume nightly-report

      djq --json recurring resume nightly-report
    """
    _set_paused(ctx, key, False)


def _set_paused(ctx: typer.Context, key: str, paused: bool) -> None:
    st = state(ctx)
    st.backend_object()
    from djq.ops.recurring import set_paused

    from ..render import changes

    changes(st, [set_paused(st.backend, key, paused)])


def run(ctx: typer.Context, key: Key) -> None:
    """Enqueue one run of a recurring task now, outside its schedule, and print the job id.

    Examples:

      djq recurring run nightly-report

      djq --json recurring run nightly-report
    """
    st = state(ctx)
    st.backend_object()
    from djq.ops.recurring import run_now

    job_id = run_now(st.backend, key)
    new_job(st, job_id, message=f"enqueued job {job_id} for {key}", key=key)


def register(app: typer.Typer) -> None:
    recurring = group(app, "recurring", HELP, panel="Operate")
    command(recurring, "list", list_)
    command(recurring, "show", show)
    command(recurring, "schedule", schedule)
    command(recurring, "unschedule", unschedule)
    command(recurring, "pause", pause)
    command(recurring, "resume", resume)
    command(recurring, "run", run)
