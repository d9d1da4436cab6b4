"""Enqueue with anything: an EnqueueError in one line, or a stored job that round-trips (issue 10 item 14)."""

from __future__ import annotations

import json

from django.tasks import task_backends
from hypothesis import given
from hypothesis import strategies as st

from djq.exceptions import EnqueueError
from djq.ops.jobs import enqueue_by_path, get_job
from tests import tasks
from tests.properties.strategies import json_like, moments, priorities, queue_names


def _one_line(exc: Exception) -> None:
    text = str(exc)
    assert text and "\n" not in text and len(text) < 1000, text


def _round_trips(value) -> object:
    return json.loads(json.dumps(value))  # tuples become lists, as JSON makes them


@given(args=st.lists(json_like, max_size=3), kwargs=st.dictionaries(st.text(max_size=5), json_like, max_size=2),
       queue=queue_names, priority=priorities, run_after=moments)
def test_item14_enqueue_api(alias, args, kwargs, queue, priority, run_after):
    backend = task_backends[alias]
    try:
        result = tasks.echo.using(backend=alias, queue_name=queue, priority=priority,
                                  run_after=run_after).enqueue(*args, **kwargs)
    except EnqueueError as exc:  # InvalidTaskOptions too
        _one_line(exc)
        return
    stored = backend.get_result(result.id)
    assert stored.args == _round_trips(args)
    assert stored.kwargs == _round_trips(kwargs)
    assert stored.task.queue_name == queue
    assert stored.task.priority == priority and type(stored.task.priority) is int
    if run_after is not None and stored.task.run_after is not None:
        assert stored.task.run_after == run_after


@given(task_path=st.one_of(st.sampled_from(["tests.tasks.echo", "standalone.tasks.job", "x" * 300, "nodots"]),
                           st.text(max_size=30)),
       args=st.lists(json_like, max_size=3), queue=st.one_of(st.none(), queue_names),
       priority=st.one_of(st.none(), priorities), run_after=moments)
def test_item14_enqueue_by_path(alias, task_path, args, queue, priority, run_after):
    """What `djq enqueue` and `jobs enqueue-again` call, with the code importable or not."""
    try:
        job_id = enqueue_by_path(alias, task_path, args, {}, queue_name=queue, priority=priority,
                                 run_after=run_after)
    except EnqueueError as exc:
        _one_line(exc)
        return
    stored = get_job(alias, job_id)  # works without the task's code, as `djq jobs show` does
    assert stored.args == _round_trips(args)
    assert stored.job.queue_name == ("default" if queue is None else queue)
