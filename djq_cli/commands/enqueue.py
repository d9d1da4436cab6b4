"""``djq enqueue``: put a job on the queue from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from ..context import state
from ..parsing import json_value, moment
from .base import command, new_job


def enqueue(
    ctx: typer.Context,
    task_path: Annotated[str, typer.Argument(help="Dotted path of the task, e.g. myapp.tasks.send_email.")],
    args: Annotated[str, typer.Option("--args", help="Positional arguments as a JSON array.")] = "[]",
    kwargs: Annotated[str, typer.Option("--kwargs", help="Keyword arguments as a JSON object.")] = "{}",
    queue: Annotated[str | None, typer.Option("--queue", help="Queue name (default: the task's).",
                                              show_default=False)] = None,
    priority: Annotated[int | None, typer.Option("--priority", min=-100, max=100,
                                                 help="-100 to 100; higher runs first.", show_default=False)] = None,
    run_after: Annotated[str | None, typer.Option(
        "--run-after", help="ISO 8601 time or +DURATION (+30s, +15m, +2h).", show_default=False)] = None,
) -> None:
    """Enqueue one job and print its id.

    Without the application's code (standalone mode) the job is stored by
    task path for a runtime that has it.

    Examples:

      djq enqueue myapp.tasks.send_email --kwargs '{"to": "ada@example.com"}'

      djq enqueue myapp.tasks.reindex --queue search --run-after +15m
    """
    st = state(ctx)
    parsed_args = json_value(args, option="--args", kind=list)
    parsed_kwargs = json_value(kwargs, option="--kwargs", kind=dict)
    when = moment(run_after, option="--run-after") if run_after else None
    st.backend_object()
    from djq.ops.jobs import enqueue_by_path

    job_id = enqueue_by_path(st.backend, task_path, parsed_args, parsed_kwargs, queue_name=queue,
                             priority=priority, run_after=when)
    new_job(st, job_id, message=f"enqueued job {job_id} ({task_path})", task_path=task_path)


def register(app: typer.Typer) -> None:
    command(app, "enqueue", enqueue, panel="Operate")
