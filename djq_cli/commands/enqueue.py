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

    With the application's code (a settings module) a path that names no
    task, or arguments the task cannot take, are refused before anything is
    stored. Without it (standalone mode) the job is stored by task path for
    a runtime that has the code, and a warning says it was not checked.

    Examples:

      djq enqueue myapp.tasks.send_email --kwargs '{"to": "ada@example.com"}'

      djq enqueue myapp.tasks.reindex --queue search --run-after +15m
    """
    st = state(ctx)
    parsed_args = json_value(args, option="--args", kind=list)
    parsed_kwargs = json_value(kwargs, option="--kwargs", kind=dict)
    when = moment(run_after, option="--run-after") if run_after else None
    st.backend_object()
    from djq.exceptions import TaskPathUnchecked
    from djq.ops.jobs import enqueue_by_path

    from ..bootstrap import STANDALONE
    from .base import say

    options = {"queue_name": queue, "priority": priority, "run_after": when}
    try:
        job_id = enqueue_by_path(st.backend, task_path, parsed_args, parsed_kwargs, **options)
    except TaskPathUnchecked as exc:
        if st.django().mode != STANDALONE:
            raise
        say(f"djq: warning: {task_path} could not be checked ({exc}; standalone mode has no application code); "
            "stored by path")
        job_id = enqueue_by_path(st.backend, task_path, parsed_args, parsed_kwargs, unchecked=True, **options)
    new_job(st, job_id, message=f"enqueued job {job_id} ({task_path})", task_path=task_path)


def register(app: typer.Typer) -> None:
    command(app, "enqueue", enqueue, panel="Operate")
