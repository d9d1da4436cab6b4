"""Values a database cannot store never reach it (issue 10 items 4, 5, 8, 9 and 12)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.tasks import task_backends
from django.utils import timezone as dj_timezone

from djq.config import RecurringTaskConfig
from djq.engine import recurring as engine_recurring
from djq.exceptions import EnqueueError
from djq.models import Job, RecurringTask
from djq.ops import recurring
from djq.ops.jobs import enqueue_by_path
from tests import tasks
from tests.engine import tasks_extra
from tests.engine.conftest import djq_entry


def vendor(alias: str) -> str:
    return task_backends[alias].dialect.vendor


@pytest.fixture
def nothing_stored(alias, jobs):
    yield
    assert jobs().count() == 0


# -- item 9: enqueue refuses, naming the value, and stores nothing ------------------------------------


LATE = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))  # the year 10000 in UTC


def test_item9_run_after_past_year_9999_in_utc(alias, nothing_stored):
    with pytest.raises(EnqueueError, match=r"^run_after 9999-12-31T23:00:00-05:00 is after the year 9999 in UTC"):
        tasks.add.using(backend=alias, run_after=LATE).enqueue(1, 2)
    with pytest.raises(EnqueueError, match=r"^run_after 9999-12-31T23:00:00-05:00 is after the year 9999"):
        enqueue_by_path(alias, "tests.tasks.add", [1, 2], run_after=LATE)
    with pytest.raises(EnqueueError, match=r"^run_after 9999-12-31T23:00:00-05:00 is after the year 9999"):
        enqueue_by_path(alias, "standalone.tasks.missing", [], run_after=LATE)  # stored by path


def test_item9_the_latest_storable_run_after_reads_back(alias, backend):
    latest = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    result = tasks.add.using(backend=alias, run_after=latest).enqueue(1, 2)
    assert backend.get_result(result.id).task.run_after == latest


def test_item9_nul_in_arguments(alias, backend, jobs):
    if vendor(alias) == "postgresql":
        with pytest.raises(EnqueueError, match=r"args\[0\]: text contains a NUL character .*PostgreSQL"):
            tasks.echo.using(backend=alias).enqueue("a\x00b")
        with pytest.raises(EnqueueError, match=r"kwargs key 'a\\x00': text contains a NUL"):
            tasks.echo.using(backend=alias).enqueue(**{"a\x00": 1})
        with pytest.raises(EnqueueError, match=r"kwargs\['k'\]: text contains a NUL"):
            enqueue_by_path(alias, "standalone.tasks.missing", [], {"k": "\x00"})
        assert jobs().count() == 0
    else:
        result = tasks.echo.using(backend=alias).enqueue("a\x00b")
        assert backend.get_result(result.id).args == ["a\x00b"]


def test_item9_lone_surrogate(alias, nothing_stored):
    with pytest.raises(EnqueueError, match=r"args\[0\]\[0\]: text contains a lone surrogate \('\\ud800'\)"):
        tasks.echo.using(backend=alias).enqueue(["\ud800"])
    with pytest.raises(EnqueueError, match=r"kwargs\['x'\]: text contains a lone surrogate"):
        enqueue_by_path(alias, "standalone.tasks.missing", [], {"x": "\udfff"})


def test_item9_a_bool_is_not_a_priority(alias, nothing_stored):
    with pytest.raises(EnqueueError, match=r"^priority must be a whole number between -100 and 100, got True$"):
        tasks.add.using(backend=alias, priority=True).enqueue(1, 2)
    with pytest.raises(EnqueueError, match=r"^priority must be a whole number between -100 and 100, got True$"):
        enqueue_by_path(alias, "tests.tasks.add", [1, 2], priority=True)
    with pytest.raises(EnqueueError, match=r"^priority must be a whole number between -100 and 100, got False"):
        enqueue_by_path(alias, "standalone.tasks.missing", [], priority=False)


def test_item9_task_path_over_255_characters(alias, nothing_stored):
    path = "standalone." + "t" * 245
    with pytest.raises(EnqueueError, match=r"^task path 'standalone\.t+\.\.\. is longer than 255 characters$"):
        enqueue_by_path(alias, path, [])


@pytest.mark.parametrize(
    ("queue", "message"),
    [
        ("", r"^queue name must not be empty or only spaces, got ''$"),
        ("   ", r"^queue name must not be empty or only spaces, got '   '$"),
        ("q" * 65, r"^queue name 'q+' is longer than 64 characters$"),
        ("tab\tqueue", r"^queue name 'tab\\tqueue' contains a control character$"),
    ],
)
def test_item9_bad_queue_names(alias, nothing_stored, queue, message):
    with pytest.raises(EnqueueError, match=message):
        tasks.add.using(backend=alias, queue_name=queue).enqueue(1, 2)
    with pytest.raises(EnqueueError, match=message):
        enqueue_by_path(alias, "tests.tasks.add", [1, 2], queue_name=queue)
    with pytest.raises(EnqueueError, match=message):
        enqueue_by_path(alias, "standalone.tasks.missing", [], queue_name=queue)


def test_item9_payload_over_the_default_maximum(alias, nothing_stored):
    with pytest.raises(EnqueueError, match=r"^arguments are 1,048,6\d\d bytes of JSON, over the limit of 1,048,576"):
        tasks.echo.using(backend=alias).enqueue("x" * (1024 * 1024))
    with pytest.raises(EnqueueError, match=r"over the limit of 1,048,576 \(OPTIONS\['max_payload_size'\]\)$"):
        enqueue_by_path(alias, "standalone.tasks.missing", ["ü" * (600 * 1024)])  # two bytes each


def test_item9_payload_maximum_is_configurable(alias, tasks_setting, jobs):
    entry = djq_entry(alias)
    entry["OPTIONS"]["max_payload_size"] = 4 * 1024 * 1024
    with tasks_setting(entry):
        result = tasks.echo.using(backend=alias).enqueue("x" * (2 * 1024 * 1024))
        assert len(jobs(result.id).payload["args"][0]) == 2 * 1024 * 1024
        with pytest.raises(EnqueueError, match="over the limit of 4,194,304"):
            tasks.echo.using(backend=alias).enqueue("x" * (5 * 1024 * 1024))


def test_item9_deep_arguments(alias, nothing_stored):
    value: list = []
    for _ in range(200):
        value = [value]
    with pytest.raises(EnqueueError, match=r"nested deeper than 64 levels"):
        tasks.echo.using(backend=alias).enqueue(value)


def test_item9_enqueue_all_stores_nothing_when_one_call_is_bad(alias, backend, nothing_stored):
    good = (tasks.add.using(backend=alias), (1, 2), {})
    with pytest.raises(EnqueueError, match="lone surrogate"):
        backend.enqueue_all([good, (tasks.echo.using(backend=alias), ("\ud800",), {})])


# -- item 5: a retry option that does not import is refused at enqueue ----------------------------------


def test_item5_retry_on_that_does_not_import(alias, nothing_stored):
    with pytest.raises(EnqueueError, match=r"^retry retry_on: .*nowhere"):
        tasks_extra.retries_on_missing.using(backend=alias).enqueue()


def test_item5_retry_on_that_is_not_an_exception(alias, nothing_stored):
    with pytest.raises(EnqueueError, match=r"^retry retry_on: 'os\.path' is not an exception class$"):
        tasks_extra.retries_on_a_module.using(backend=alias).enqueue()


# -- item 4: what a task returns or raises is stored, or fails that one job clearly ---------------------


def test_item4_nul_in_a_return_value(alias, worker, jobs, backend):
    result = tasks_extra.returns_nul.using(backend=alias).enqueue()
    other = tasks.add.using(backend=alias).enqueue(2, 3)
    worker.run()
    if vendor(alias) == "postgresql":
        row = jobs(result.id)
        assert row.state == "failed"
        error = row.attempts[-1]["error"]
        assert error["exception_class_path"] == "djq.exceptions.ResultSerializationError"
        assert error["message"] == ("the task returned a value that cannot be stored: return value: text contains"
                                    " a NUL character (\\x00), which PostgreSQL cannot store")
    else:
        assert backend.get_result(result.id).return_value == "before\x00after"
    assert backend.get_result(other.id).return_value == 5  # the rest of the batch is written


def test_item4_lone_surrogate_in_a_return_value(alias, worker, jobs):
    result = tasks_extra.returns_surrogate.using(backend=alias).enqueue()
    worker.run()
    row = jobs(result.id)
    assert row.state == "failed"
    assert "return value: text contains a lone surrogate" in row.attempts[-1]["error"]["message"]


def test_item4_return_value_over_the_maximum(alias, worker, jobs):
    """Below MariaDB's default max_allowed_packet (16 MiB), so the write itself never breaks the connection."""
    result = tasks_extra.returns_text.using(backend=alias).enqueue(2 * 1024 * 1024)
    small = tasks_extra.returns_text.using(backend=alias).enqueue(10)
    worker.run()
    row = jobs(result.id)
    assert row.state == "failed" and row.return_value is None
    assert row.attempts[-1]["error"]["message"] == (
        "the task returned a value that cannot be stored: the return value is 2,097,154 bytes of JSON,"
        " over the limit of 1,048,576 (OPTIONS['max_payload_size'])"
    )
    assert jobs(small.id).state == "finished"


def test_item4_nul_and_surrogates_in_an_exception_are_escaped(alias, worker, jobs, backend):
    result = tasks_extra.raises_nul.using(backend=alias).enqueue()
    worker.run()
    row = jobs(result.id)
    assert row.state == "failed"
    error = row.attempts[-1]["error"]
    assert error["message"] == "bad\\x00byte \\ud800 and a newline\nforged log line"
    assert "\x00" not in error["traceback"] and "ValueError: bad\\x00byte" in error["traceback"]
    assert backend.get_result(result.id).errors[0].traceback == error["traceback"]


def test_item4_a_huge_exception_message_is_stored_capped(alias, worker, jobs):
    result = tasks_extra.raises_huge.using(backend=alias).enqueue(1024 * 1024)
    worker.run()
    error = jobs(result.id).attempts[-1]["error"]
    assert len(error["message"]) < 70 * 1024
    assert error["message"].endswith("...[983,040 characters cut]")
    assert len(error["traceback"]) < 70 * 1024 and error["traceback"].startswith("[")


# -- item 12: log lines cap an exception message and escape control characters --------------------------


def test_item12_log_lines_are_capped_and_escaped(alias, worker, caplog):
    tasks_extra.raises_huge.using(backend=alias).enqueue(1024 * 1024)
    tasks_extra.raises_nul.using(backend=alias).enqueue()
    with caplog.at_level(logging.INFO, logger="djq.job"):
        worker.run()
    failures = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 2
    huge, nul = failures
    assert len(huge) < 1000 and huge.endswith("... (1,048,076 more characters)")
    assert "\n" not in nul and "\x00" not in nul
    assert nul.endswith("ValueError: bad\\x00byte \\ud800 and a newline\\nforged log line")


def test_item12_for_log_escapes_terminal_sequences():
    from djq.safe_text import for_log

    assert for_log("red \x1b[31m alert\r\n") == "red \\x1b[31m alert\\r\\n"
    assert for_log("é" * 600).endswith("... (100 more characters)")


# -- item 8: one broken recurring entry never stops the others ------------------------------------------


#: A row the database stores, whose job cannot be built: its concurrency key needs an argument it lacks.
UNRESOLVABLE = {"task_path": "tests.engine.tasks_extra.one_per_account", "payload": {"args": [], "kwargs": {}}}


def _due_row(alias: str, key: str, **fields) -> RecurringTask:
    now = dj_timezone.now()
    values = {"task_path": "tests.tasks.add", "schedule": "* * * * *", "payload": {"args": [1, 2], "kwargs": {}},
              "queue_name": "default", "static": True, "next_run_at": now - timedelta(minutes=1),
              "created_at": now, "updated_at": now, **fields}
    return RecurringTask.objects.using(alias).create(backend_alias=alias, key=key, **values)


def test_item8_a_broken_entry_skips_its_slot_and_the_others_fire(alias, caplog):
    broken = _due_row(alias, "aaa-broken", **UNRESOLVABLE)
    _due_row(alias, "zzz-fine")
    with caplog.at_level(logging.ERROR, logger="djq.runtime"):
        fired = engine_recurring.fire_due(task_backends[alias], dj_timezone.now(), dynamic=False)
    assert fired == 1
    assert list(Job.objects.using(alias).values_list("recurring_key", flat=True)) == ["zzz-fine"]
    broken.refresh_from_db(using=alias)
    assert broken.next_run_at > dj_timezone.now()  # skipped to its next slot, not retried every tick
    assert "recurring task aaa-broken cannot be enqueued (EnqueueError: cannot resolve concurrency key" in caplog.text


def test_item8_retention_runs_after_a_broken_entry(alias, backend, worker, jobs):
    from djq.runtime.scheduler import Scheduler

    old = tasks.add.using(backend=alias).enqueue(1, 1)
    worker.run()
    Job.objects.using(alias).filter(pk=old.id).update(finished_at=dj_timezone.now() - timedelta(days=30))
    _due_row(alias, "broken", **UNRESOLVABLE)
    config = backend.config.with_options(clear_finished_jobs_after=60)
    Scheduler(config).tick()
    assert not jobs().filter(pk=old.id).exists()


@pytest.mark.vendors("postgresql", "mysql")
def test_item8_an_entry_the_database_refuses_does_not_stop_the_others(alias, caplog):
    """Past `djq check` (a key over 255 characters): the others are stored, this one is logged."""
    entries = [
        RecurringTaskConfig(key="k" * 300, task_path="tests.tasks.add", schedule="@daily"),
        RecurringTaskConfig(key="fine", task_path="tests.tasks.add", schedule="@daily"),
    ]
    with caplog.at_level(logging.ERROR, logger="djq.runtime"):
        engine_recurring.sync_static(alias, alias, entries)
    assert list(RecurringTask.objects.using(alias).values_list("key", flat=True)) == ["fine"]
    assert f"recurring task {'k' * 300} cannot be stored" in caplog.text


def test_item8_recurring_run_now_refuses_bad_arguments(alias):
    _due_row(alias, "surrogate", payload={"args": [], "kwargs": {}}, task_path="standalone.tasks.gone",
             queue_name="q" * 64)
    RecurringTask.objects.using(alias).filter(key="surrogate").update(queue_name="")
    with pytest.raises(EnqueueError, match="queue name must not be empty"):
        recurring.run_now(alias, "surrogate")
    assert json.dumps(list(Job.objects.using(alias).values_list("id", flat=True))) == "[]"


def test_item4_a_long_retry_history_stays_small():
    """A thousand attempts of megabyte errors must not make one row too big to write (MariaDB's packet)."""
    from djq.engine.execution import ATTEMPTS_BUDGET, attempts_json

    error = {"exception_class_path": "builtins.ValueError", "message": "m" * 65536, "traceback": "t" * 65536}
    attempts = [{"worker_id": "w", "started_at": "", "finished_at": "", "error": error} for _ in range(100)]
    text = attempts_json(attempts)
    assert len(text) < ATTEMPTS_BUDGET
    stored = json.loads(text)
    assert len(stored) == 100 and stored[-1]["error"] == error  # the latest attempt is kept whole
    assert stored[0]["error"]["message"] == "m" * 500


def test_item9_enqueue_on_commit_refuses_at_the_call(alias, jobs):
    """Not when the transaction commits, where the caller's commit would raise it."""
    from django.db import transaction

    from djq.api import enqueue_on_commit

    with transaction.atomic(using=alias):
        with pytest.raises(EnqueueError, match="lone surrogate"):
            enqueue_on_commit(tasks.echo.using(backend=alias), "\ud800")
        enqueue_on_commit(tasks.add.using(backend=alias), 1, 2)
    assert jobs().count() == 1
