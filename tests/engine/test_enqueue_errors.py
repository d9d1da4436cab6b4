"""Every way an enqueue is rejected (SPEC §2): an EnqueueError, and nothing stored."""

from __future__ import annotations

import datetime
import decimal
import math

import pytest
from django.tasks import task

from djq.backend import DjqTask
from djq.exceptions import EnqueueError
from djq.models import Semaphore
from tests import tasks
from tests.engine import tasks_extra
from tests.engine.conftest import djq_entry


class Ratio(float):
    """A float subclass, as numpy.float64 is."""


@pytest.fixture
def nothing_stored(alias, jobs):
    yield
    assert jobs().count() == 0
    assert Semaphore.objects.using(alias).count() == 0


BAD_ARGS = [
    ((datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),), {}, r"args\[0\]: datetime"),
    ((1, {2, 3}), {}, r"args\[1\]: set"),
    ((b"bytes",), {}, r"args\[0\]: bytes"),
    ((math.nan,), {}, r"args\[0\]: nan is not a finite number"),
    ((math.inf,), {}, r"args\[0\]: inf"),
    ((-math.inf,), {}, r"args\[0\]: -inf"),
    ((Ratio("nan"),), {}, r"args\[0\]"),
    (({1: "int key"},), {}, r"args\[0\]: dict key 1 is not a string"),
    (([{"ok": [1, decimal.Decimal("1.5")]}],), {}, r"args\[0\]\[0\]\['ok'\]\[1\]: Decimal"),
    ((), {"when": datetime.date(2026, 1, 1)}, r"kwargs\['when'\]: date"),
    ((), {"deep": {"x": [object()]}}, r"kwargs\['deep'\]\['x'\]\[0\]: object"),
]


@pytest.mark.parametrize(("args", "kwargs", "path"), BAD_ARGS)
def test_non_json_arguments(alias, nothing_stored, args, kwargs, path):
    with pytest.raises(EnqueueError, match=path):
        tasks.echo.using(backend=alias).enqueue(*args, **kwargs)


@pytest.mark.parametrize(("args", "kwargs", "path"), BAD_ARGS[:3])
def test_non_json_arguments_in_enqueue_all(alias, backend, nothing_stored, args, kwargs, path):
    calls = [(tasks.echo.using(backend=alias), (1,), {}), (tasks.echo.using(backend=alias), args, kwargs)]
    with pytest.raises(EnqueueError, match=path):
        backend.enqueue_all(calls)


def test_json_values_are_accepted(alias, backend):
    args = (None, True, 0, -1.5, "ü", [], {}, [1, [2, {"a": None}]], (1, 2))
    result = tasks.echo.using(backend=alias).enqueue(*args, big=2**62)
    assert backend.get_result(result.id).args == [None, True, 0, -1.5, "ü", [], {}, [1, [2, {"a": None}]], [1, 2]]


# -- queues ---------------------------------------------------------------------------


def test_queue_outside_queues(alias, jobs, tasks_setting, nothing_stored):
    bound_before = tasks.add.using(backend=alias, queue_name="other")
    with tasks_setting(djq_entry(alias, QUEUES=["only"])):
        with pytest.raises(EnqueueError, match="'other' is not in TASKS"):
            tasks.add.using(backend=alias, queue_name="other")
        with pytest.raises(EnqueueError, match="'other' is not in TASKS"):
            bound_before.enqueue(1, 2)
        allowed = tasks.add.using(backend=alias, queue_name="only").enqueue(1, 2)
        jobs(id=allowed.id).delete()


def test_missing_queues_means_any_queue(alias, jobs, tasks_setting):
    entry = djq_entry(alias)
    del entry["QUEUES"]
    with tasks_setting(entry):
        result = tasks.add.using(backend=alias, queue_name="anything").enqueue(1, 2)
    assert jobs(result.id).queue_name == "anything"


# -- concurrency options ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"key": "account:{account_id}"}, "needs a limit"),
        ({"key": "account:{account_id}", "limit": 0}, "limit must be a positive integer"),
        ({"key": "account:{account_id}", "limit": -2}, "limit must be a positive integer"),
        ({"key": "account:{account_id}", "limit": 1.5}, "limit must be a positive integer"),
        ({"key": "account:{account_id}", "limit": True}, "limit must be a positive integer"),
        ({"key": "account:{account_id}", "limit": 1, "duration": 0}, "duration must be a positive"),
        ({"key": "account:{account_id}", "limit": 1, "duration": -5}, "duration must be a positive"),
        ({"key": "account:{account_id}", "limit": 1, "on_conflict": "skip"}, "on_conflict must be"),
    ],
)
def test_invalid_concurrency_policy(alias, concurrency, nothing_stored, policy, message):
    concurrency(tasks_extra.keyed, **policy)
    with pytest.raises(EnqueueError, match=message):
        tasks_extra.keyed.using(backend=alias).enqueue(1)
    with pytest.raises(EnqueueError, match=message):
        tasks_extra.keyed.using(backend=alias)  # validate_task already says so


@pytest.mark.parametrize(
    ("key", "args", "kwargs", "message"),
    [
        ("account:{missing}", (1,), {}, "cannot resolve concurrency key"),
        ("account:{0}", (1,), {}, "cannot resolve concurrency key"),
        ("account:{account_id.nope}", (1,), {}, "cannot resolve concurrency key"),
        ("account:{account_id}", (), {}, "cannot resolve concurrency key"),
        ("account:{account_id}", (1, 2, 3), {}, "cannot resolve concurrency key"),
        (lambda account_id, n=0: 1 / 0, (1,), {}, None),
        (lambda account_id, n=0: None, (1,), {}, "non-empty string"),
        ("{account_id}", ("",), {}, "non-empty string"),
        ("{account_id}", ("x" * 256,), {}, "at most 255 characters"),
        ("a{account_id}", ("x" * 255,), {}, "at most 255 characters"),
    ],
)
def test_unusable_concurrency_key(alias, concurrency, nothing_stored, key, args, kwargs, message):
    concurrency(tasks_extra.keyed, key=key, limit=1)
    if message is None:
        # A key function that raises something else is the caller's bug: it propagates.
        with pytest.raises(ZeroDivisionError):
            tasks_extra.keyed.using(backend=alias).enqueue(*args, **kwargs)
        return
    with pytest.raises(EnqueueError, match=message):
        tasks_extra.keyed.using(backend=alias).enqueue(*args, **kwargs)


def test_key_of_255_characters_is_fine(alias, concurrency, jobs):
    concurrency(tasks_extra.keyed, key="{account_id}", limit=1)
    result = tasks_extra.keyed.using(backend=alias).enqueue("k" * 255)
    assert jobs(result.id).concurrency_key == "k" * 255


def test_key_resolves_defaults_and_keywords(alias, concurrency, jobs):
    concurrency(tasks_extra.keyed, key="{account_id}/{n}", limit=1)
    a = tasks_extra.keyed.using(backend=alias).enqueue(7)
    b = tasks_extra.keyed.using(backend=alias).enqueue(n=3, account_id=7)
    assert (jobs(a.id).concurrency_key, jobs(b.id).concurrency_key) == ("7/0", "7/3")


def test_task_decorator_options(alias, jobs):
    assert isinstance(tasks_extra.one_per_account, DjqTask)
    bound = tasks_extra.one_per_account.using(backend=alias, priority=3)
    assert (bound.concurrency_key, bound.concurrency_limit) == ("account:{account_id}", 1)
    first, second = bound.enqueue(5), bound.enqueue(5)
    other = bound.enqueue(6)
    assert [jobs(r.id).state for r in (first, second, other)] == ["ready", "blocked", "ready"]
    assert jobs(first.id).concurrency_key == "account:5"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"concurrency_key": "a:{account_id}"}, "needs a limit"),
        ({"concurrency_key": "a:{account_id}", "concurrency_limit": 0}, "positive integer"),
        ({"concurrency_key": "a:{account_id}", "concurrency_limit": 1, "concurrency_duration": 0}, "duration"),
        ({"concurrency_key": "a:{account_id}", "concurrency_limit": 1, "on_conflict": "drop"}, "on_conflict"),
    ],
)
def test_task_decorator_rejects_bad_options(options, message):
    with pytest.raises(EnqueueError, match=message):
        task(**options)(tasks_extra.plain)


def test_queue_name_longer_than_the_column(alias, nothing_stored):
    with pytest.raises(EnqueueError, match="longer than 64 characters"):
        tasks.add.using(backend=alias, queue_name="q" * 65).enqueue(1, 2)


def test_queue_name_of_64_characters(alias, jobs):
    result = tasks.add.using(backend=alias, queue_name="q" * 64).enqueue(1, 2)
    assert jobs(result.id).queue_name == "q" * 64
