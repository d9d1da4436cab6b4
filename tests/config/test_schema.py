"""The frozen option objects: defaults, helpers, retry policy maths."""

import dataclasses
import json
import random

import pytest

from djq.config import (
    BackendConfig,
    DispatcherConfig,
    RecurringTaskConfig,
    RetryPolicy,
    SchedulerConfig,
    WorkerConfig,
    queue_matches,
)
from djq.exceptions import ConfigurationError


def test_worker_defaults():
    assert WorkerConfig() == WorkerConfig(
        queues=("*",), threads=3, processes=1, polling_interval=0.1, prefetch_multiplier=16
    )


def test_dispatcher_and_scheduler_defaults():
    assert DispatcherConfig() == DispatcherConfig(
        batch_size=500,
        polling_interval=1.0,
        concurrency_maintenance=True,
        concurrency_maintenance_interval=600.0,
    )
    assert SchedulerConfig() == SchedulerConfig(dynamic_tasks_enabled=False, polling_interval=5.0)


def test_backend_defaults():
    config = BackendConfig(alias="default")
    expected = {
        "queues": (),
        "mode": "fork",
        "workers": (WorkerConfig(),),
        "dispatchers": (DispatcherConfig(),),
        "scheduler": SchedulerConfig(),
        "recurring": (),
        "database_alias": "default",
        "preserve_finished_jobs": True,
        "clear_finished_jobs_after": 86400,
        "clear_failed_jobs_after": None,
        "clear_recurring_executions_after": None,
        "default_concurrency_duration": 180,
        "use_skip_locked": True,
        "listen_notify": True,
        "silence_polling": True,
        "process_heartbeat_interval": 60,
        "process_alive_threshold": 300,
        "shutdown_timeout": 5,
        "supervisor_pidfile": None,
        "on_thread_error": None,
        "retry": None,
    }
    assert {name: getattr(config, name) for name in expected} == expected


def test_objects_are_frozen_and_hashable():
    config = BackendConfig(
        alias="default",
        recurring=(
            RecurringTaskConfig(key="a", task_path="m.t", schedule="@daily", kwargs={"x": 1}),
        ),
        retry=RetryPolicy(max_attempts=2),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.mode = "async"
    assert hash(config) == hash(dataclasses.replace(config))


def test_recurring_defaults():
    task = RecurringTaskConfig(key="k", task_path="app.tasks.t", schedule="0 3 * * *")
    assert (task.args, task.kwargs, task.queue_name, task.priority, task.description) == (
        (),
        {},
        "default",
        0,
        "",
    )


@pytest.mark.parametrize(
    ("selector", "queue", "expected"),
    [
        ("*", "anything", True),
        ("email*", "email", True),
        ("email*", "email-bulk", True),
        ("email*", "mail", False),
        ("default", "default", True),
        ("default", "default2", False),
    ],
)
def test_queue_matches(selector, queue, expected):
    assert queue_matches(selector, queue) is expected


def test_worker_matches_any_selector():
    worker = WorkerConfig(queues=("alerts", "email*"))
    assert worker.matches("email-bulk") and worker.matches("alerts")
    assert not worker.matches("default")


def test_to_dict_is_json_and_to_options_round_trips_shape():
    config = BackendConfig(
        alias="default",
        recurring=(RecurringTaskConfig(key="a", task_path="m.t", schedule="@daily", args=(1,)),),
        retry=RetryPolicy(max_attempts=3),
    )
    data = json.loads(json.dumps(config.to_dict()))
    assert data["alias"] == "default"
    assert data["workers"] == [
        {
            "queues": ["*"],
            "threads": 3,
            "processes": 1,
            "polling_interval": 0.1,
            "prefetch_multiplier": 16,
        }
    ]
    assert data["recurring"]["a"]["args"] == [1]
    assert data["retry"]["max_attempts"] == 3
    assert "sources" not in data and "alias" not in config.to_options()


class TestRetryPolicy:
    def test_defaults(self):
        policy = RetryPolicy()
        assert (policy.max_attempts, policy.backoff_base, policy.backoff_factor) == (1, 1.0, 2.0)
        assert (policy.backoff_cap, policy.jitter, policy.retry_on) == (
            3600.0,
            0.1,
            ("builtins.Exception",),
        )

    def test_exponential_delays_are_capped(self):
        policy = RetryPolicy(backoff_base=1, backoff_factor=2, backoff_cap=10, jitter=0)
        assert [policy.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]

    def test_huge_attempt_numbers_hit_the_cap(self):
        assert RetryPolicy(backoff_cap=60, jitter=0).delay(100_000) == 60

    def test_jitter_is_bounded_and_reproducible(self):
        policy = RetryPolicy(backoff_base=10, backoff_factor=2, jitter=0.1)
        rng, same_seed = random.Random(42), random.Random(42)
        first = [policy.delay(n, rng) for n in range(1, 6)]
        again = [policy.delay(n, same_seed) for n in range(1, 6)]
        assert first == again
        for n, delay in enumerate(first, start=1):
            exact = 10 * 2 ** (n - 1)
            assert exact * 0.9 <= delay <= exact * 1.1
        assert len({d / (10 * 2**i) for i, d in enumerate(first)}) > 1  # jitter applied

    def test_jitter_never_exceeds_the_cap(self):
        policy = RetryPolicy(backoff_cap=5, jitter=1)
        rng = random.Random(7)
        assert all(0 <= policy.delay(20, rng) <= 5 for _ in range(200))

    def test_attempts_count_from_one(self):
        with pytest.raises(ValueError, match="attempt counts from 1"):
            RetryPolicy().delay(0)

    def test_should_retry_until_max_attempts(self):
        policy = RetryPolicy(max_attempts=3, retry_on=("builtins.ValueError",))
        assert policy.should_retry(ValueError(), 1)
        assert policy.should_retry(UnicodeError(), 2)  # subclasses count
        assert not policy.should_retry(ValueError(), 3)
        assert not policy.should_retry(KeyError(), 1)

    def test_one_attempt_means_no_retries(self):
        assert not RetryPolicy().should_retry(Exception(), 1)

    def test_classes_are_stored_as_paths(self):
        policy = RetryPolicy(max_attempts=2, retry_on=(TimeoutError, "builtins.KeyError"))
        assert policy.retry_on == ("builtins.TimeoutError", "builtins.KeyError")
        assert policy.should_retry(KeyError(), 1)

    def test_unimportable_exception_path_fails_on_use(self):
        policy = RetryPolicy(max_attempts=2, retry_on=("builtins.NoSuchError",))
        with pytest.raises(ConfigurationError, match="NoSuchError"):
            policy.should_retry(ValueError(), 1)

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"max_attempts": 0}, "retry max_attempts: expected a positive integer, got 0"),
            ({"max_attempts": True}, "retry max_attempts: expected a positive integer, got True"),
            ({"backoff_base": 0}, "retry backoff_base: expected a positive number, got 0"),
            (
                {"backoff_factor": 0.5},
                "retry backoff_factor: expected a number of at least 1, got 0.5",
            ),
            ({"jitter": 1.5}, "retry jitter: expected a number between 0 and 1, got 1.5"),
            ({"retry_on": ()}, "retry retry_on: expected dotted exception class paths, got ()"),
        ],
    )
    def test_invalid_policies_are_rejected(self, changes, message):
        with pytest.raises(ConfigurationError) as info:
            RetryPolicy(**changes)
        assert str(info.value) == message
