"""Hostile configuration is refused quickly, in one clear line (issue 10 items 5, 8 and 11)."""

import time

import pytest
import yaml
from django.test import override_settings

from djq.config import RetryPolicy, get_config, validate
from djq.exceptions import ConfigurationError
from tests.config.conftest import djq_tasks

YEAR = 365 * 86400

S = "TASKS['default']['OPTIONS']"


def error_for(options=None, **kwargs):
    kwargs.setdefault("environ", {})
    with override_settings(TASKS=djq_tasks(options)), pytest.raises(ConfigurationError) as info:
        get_config(**kwargs)
    return str(info.value)


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + f"\nworkers: *a{levels}\n"


# -- item 11: the YAML file ------------------------------------------------------------------------------


def test_item11_alias_bomb_is_refused_quickly(write_yaml):
    path = write_yaml(alias_bomb())
    started = time.monotonic()
    message = error_for(config_file=path)
    assert message == f"{path} line 6: aliases expand to more than 100,000 values"
    assert time.monotonic() - started < 10  # today: never returns


def test_item11_alias_bomb_in_check_too(write_yaml):
    with override_settings(TASKS=djq_tasks()):
        assert validate(config_file=write_yaml(alias_bomb()), environ={})[0].endswith("more than 100,000 values")


def test_item11_recursive_alias_is_refused(write_yaml):
    path = write_yaml("workers: &w [*w]\n")
    assert error_for(config_file=path) == f"{path} line 1: an alias refers to a value that contains it"


def test_item11_anchors_and_merge_keys_still_work(write_yaml):
    path = write_yaml("backends:\n  default:\n    workers:\n      - &w {threads: 2}\n      - *w\n")
    assert [w.threads for w in _config(config_file=path).workers] == [2, 2]
    path = write_yaml("workers:\n  - &base {threads: 2, processes: 3}\n  - <<: *base\n    threads: 4\n")
    assert [(w.threads, w.processes) for w in _config(config_file=path).workers] == [(2, 3), (4, 3)]


def test_item11_a_huge_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "big.yml"
    line = '  k: {task_path: a.b, schedule: "* * * * *"}\n'
    path.write_text("recurring:\n" + line * (60 * 1024 * 1024 // len(line)))  # 60 MB
    started = time.monotonic()
    assert error_for(config_file=str(path)) == f"{path}: config file is larger than 1 MiB"
    assert time.monotonic() - started < 5  # today: over 30 seconds


def test_item11_deep_nesting_names_the_line(write_yaml):
    path = write_yaml("mode: fork\nworkers: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert error_for(config_file=path) == f"{path} line 2: nested deeper than 32 levels"


def test_item11_non_utf8_names_the_file(tmp_path):
    path = tmp_path / "latin1.yml"
    path.write_bytes(b"mode: fork\nsupervisor_pidfile: /run/caf\xe9.pid\n")
    assert error_for(config_file=str(path)) == f"{path} line 2: not UTF-8 text (byte 0xe9 at offset 39)"


def test_item11_duplicate_keys_are_refused(write_yaml):
    path = write_yaml("workers:\n  - threads: 2\n    threads: 30\n")
    assert error_for(config_file=path) == (
        f"{path} line 3: invalid YAML (duplicate key 'threads' (first given on line 2))"
    )
    path = write_yaml("mode: fork\nmode: async\n")
    assert error_for(config_file=path) == f"{path} line 2: invalid YAML (duplicate key 'mode' (first given on line 1))"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": [{"processes": 100000}]}, "workers[0].processes: expected at most 256, got 100000"),
        ({"workers": [{"threads": 1000000}]}, "workers[0].threads: expected at most 1,000, got 1000000"),
        ({"workers": [{"prefetch_multiplier": 10**9}]},
         "workers[0].prefetch_multiplier: expected at most 100, got 1000000000"),
        ({"workers": [{"prefetch_multiplier": 1e9}]},
         "workers[0].prefetch_multiplier: expected a positive integer, got 1000000000.0"),
        ({"dispatchers": [{"batch_size": 10**11}]},
         "dispatchers[0].batch_size: expected at most 100,000, got 100000000000"),
        ({"shutdown_timeout": 1e300}, "shutdown_timeout: expected at most 86,400, got 1e+300"),
        ({"workers": [{"polling_interval": 1e300}]},
         "workers[0].polling_interval: expected at most 86,400, got 1e+300"),
        ({"process_alive_threshold": 1e12}, "process_alive_threshold: expected at most 604,800, got 1000000000000.0"),
        ({"clear_finished_jobs_after": 1e300},
         "clear_finished_jobs_after: expected at most 3,153,600,000, got 1e+300"),
        ({"default_concurrency_duration": 1e300},
         "default_concurrency_duration: expected at most 31,536,000, got 1e+300"),
        ({"max_payload_size": 10}, "max_payload_size: expected a number of bytes of at least 1024, got 10"),
        ({"max_payload_size": 2**40}, "max_payload_size: expected at most 67,108,864, got 1099511627776"),
    ],
)
def test_item11_values_are_bounded(options, message):
    assert error_for(options) == f"{S} {message}"


def test_item11_list_lengths_are_bounded(write_yaml):
    assert error_for({"workers": [{}] * 65}) == f"{S} workers: expected at most 64 entries, got 65"
    tasks = {f"k{n}": {"task_path": "a.b", "schedule": "@daily"} for n in range(1001)}
    path = write_yaml(yaml.safe_dump({"recurring": tasks}))
    started = time.monotonic()
    assert error_for(config_file=path) == f"{path} recurring: expected at most 1,000 recurring tasks, got 1,001"
    assert time.monotonic() - started < 10  # every schedule is parsed: 20,000 took minutes


def test_item11_bounds_apply_to_yaml_too(write_yaml):
    path = write_yaml("workers:\n  - processes: 100000\n")
    assert error_for(config_file=path) == f"{path} workers[0].processes: expected at most 256, got 100000"


def _config(**kwargs):
    kwargs.setdefault("environ", {})
    with override_settings(TASKS=djq_tasks()):
        return get_config(**kwargs)


# -- item 5: the retry policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry", "message"),
    [
        ({"backoff_base": 1e12}, "retry.backoff_base: expected at most 31,536,000, got 1000000000000.0"),
        ({"backoff_cap": 1e300}, "retry.backoff_cap: expected at most 31,536,000, got 1e+300"),
        ({"backoff_factor": 1e300}, "retry.backoff_factor: expected at most 1,000, got 1e+300"),
        ({"max_attempts": 10**9}, "retry.max_attempts: expected at most 1,000, got 1000000000"),
    ],
)
def test_item5_retry_options_are_bounded(retry, message):
    assert error_for({"retry": retry}) == f"{S} {message}"


def test_item5_retry_policy_in_code_is_bounded():
    with pytest.raises(ConfigurationError, match=r"^retry backoff_base: expected at most 31,536,000, got 1000000"):
        RetryPolicy(max_attempts=3, backoff_base=1e12)
    with pytest.raises(ConfigurationError, match=r"^retry backoff_cap: expected at most"):
        RetryPolicy(max_attempts=3, backoff_cap=1e300)


def test_item5_the_longest_delay_fits_a_date():
    from datetime import timedelta

    from django.utils import timezone

    policy = RetryPolicy(max_attempts=1000, backoff_base=YEAR, backoff_factor=1000, backoff_cap=YEAR, jitter=1)
    for attempt in (1, 2, 999):
        assert timezone.now() + timedelta(seconds=policy.delay(attempt)) > timezone.now()


def test_item5_retry_on_that_does_not_import_is_refused_at_check():
    assert error_for({"retry": {"max_attempts": 2, "retry_on": ["nowhere.NoSuchError"]}}).startswith(
        f"{S} retry.retry_on[0]: cannot import 'nowhere.NoSuchError'"
    )


# -- item 8: recurring entries that the database cannot store ---------------------------------------------


def recurring(**entry):
    return {"recurring": {"job": {"task_path": "tests.tasks.add", "schedule": "* * * * *", **entry}}}


def test_item8_recurring_key_over_255_characters():
    options = {"recurring": {"k" * 256: {"task_path": "tests.tasks.add", "schedule": "* * * * *"}}}
    assert error_for(options) == f"{S} recurring: a recurring task key is at most 255 characters, got 256"


def test_item8_recurring_queue_over_64_characters():
    assert error_for(recurring(queue_name="q" * 65)) == (
        f"{S} recurring.job.queue_name: a queue name is at most 64 characters, got 65"
    )


def test_item8_recurring_queue_of_spaces():
    assert error_for(recurring(queue_name="   ")) == (
        f"{S} recurring.job.queue_name: expected a non-empty string, got '   '"
    )


def test_item8_recurring_task_path_over_255_characters():
    path = "tests." + "t" * 250
    assert error_for(recurring(task_path=path)) == (
        f"{S} recurring.job.task_path: a task path is at most 255 characters, got 256"
    )


def test_item8_recurring_lone_surrogate_is_refused_everywhere():
    assert error_for(recurring(args=["\ud800"])) == (
        f"{S} recurring.job: arguments must round-trip through JSON: args[0]: text contains a lone surrogate"
        " ('\\ud800'), which is not valid Unicode"
    )


def test_item8_recurring_arguments_over_the_payload_limit():
    assert error_for({**recurring(args=["x" * 2000]), "max_payload_size": 1024}) == (
        f"{S} recurring.job: arguments are 2,025 bytes of JSON, over the limit of 1,024 (OPTIONS['max_payload_size'])"
    )


def test_item8_recurring_nul_is_refused_on_postgresql():
    import warnings

    from django.conf import settings

    databases = {**settings.DATABASES, "pg": {"ENGINE": "django.db.backends.postgresql", "NAME": "never"}}
    options = {**recurring(kwargs={"name": "a\x00b"})}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Overriding setting DATABASES")
        with override_settings(DATABASES=databases):
            assert error_for({**options, "database_alias": "pg"}) == (
                f"{S} recurring.job: arguments must round-trip through JSON: kwargs['name']: text contains"
                " a NUL character (\\x00), which PostgreSQL cannot store"
            )
            assert _config_of(options).recurring[0].kwargs == {"name": "a\x00b"}  # SQLite keeps it


def _config_of(options):
    with override_settings(TASKS=djq_tasks(options)):
        return get_config(environ={})
