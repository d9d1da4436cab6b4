"""Loading: layers, precedence, YAML shapes, aliases and caching."""

import logging
import sys

import pytest
from django.conf import settings
from django.test import override_settings

from djq.config import (
    RetryPolicy,
    WorkerConfig,
    djq_aliases,
    get_config,
    skip_recurring_from_env,
    validate,
)
from djq.exceptions import ConfigurationError
from tests.config.conftest import DJQ, djq_tasks

IMMEDIATE = "django.tasks.backends.immediate.ImmediateBackend"


def load(options=None, **kwargs):
    kwargs.setdefault("environ", {})
    with override_settings(TASKS=djq_tasks(options)):
        return get_config(**kwargs)


def test_empty_options_give_the_defaults():
    config = load()
    assert config.alias == "default"
    assert config.workers == (WorkerConfig(),)
    assert set(config.sources.values()) == {"default"}


def test_settings_values_are_used():
    config = load({"mode": "async", "workers": [{"queues": "a, b*", "threads": 2}]})
    assert config.mode == "async"
    assert config.workers == (WorkerConfig(queues=("a", "b*"), threads=2),)
    assert config.sources["workers"] == "settings"


def test_queues_come_from_the_alias():
    with override_settings(TASKS=djq_tasks(queues=["default", "email"])):
        assert get_config(environ={}).queues == ("default", "email")
    with override_settings(TASKS=djq_tasks()):
        assert get_config(environ={}).queues == ()  # missing QUEUES: any queue


def test_flat_yaml_overlays_settings(write_yaml):
    path = write_yaml("mode: async\nworkers:\n  - threads: 7\n")
    config = load({"mode": "fork", "workers": [{"threads": 2, "processes": 3}]}, config_file=path)
    assert config.mode == "async"
    # A top-level key replaces the settings value wholesale: processes is back to 1.
    assert config.workers == (WorkerConfig(threads=7),)
    assert config.sources["mode"] == "yaml"


def test_backends_yaml_applies_only_the_selected_alias(write_yaml):
    path = write_yaml(
        "backends:\n  default:\n    shutdown_timeout: 9\n  other:\n    shutdown_timeout: 1\n"
    )
    tasks = djq_tasks(other={"BACKEND": DJQ})
    with override_settings(TASKS=tasks):
        assert get_config("default", config_file=path, environ={}).shutdown_timeout == 9
        assert get_config("other", config_file=path, environ={}).shutdown_timeout == 1


def test_backends_yaml_without_a_block_is_no_overlay(write_yaml):
    path = write_yaml("backends:\n  other:\n    mode: async\n")
    with override_settings(TASKS=djq_tasks({"mode": "fork"}, other={"BACKEND": DJQ})):
        assert get_config(config_file=path, environ={}).mode == "fork"


def test_empty_yaml_file_is_no_overlay(write_yaml):
    assert load({"mode": "async"}, config_file=write_yaml("# nothing\n")).mode == "async"


def test_config_file_from_environment(write_yaml):
    path = write_yaml("shutdown_timeout: 12\n")
    assert load(environ={"DJQ_CONFIG": path}).shutdown_timeout == 12


def test_precedence_cli_over_env_over_yaml_over_settings(write_yaml):
    settings_options = {
        "mode": "async",
        "shutdown_timeout": 1,
        "process_heartbeat_interval": 10,
        "silence_polling": False,
    }
    path = write_yaml("mode: async\nshutdown_timeout: 2\nprocess_heartbeat_interval: 20\n")
    environ = {"DJQ_MODE": "fork", "DJQ_CONFIG": path}
    with override_settings(TASKS=djq_tasks(settings_options)):
        env_wins = get_config(environ=environ)
        cli_wins = get_config(environ=environ, overrides={"mode": "async", "shutdown_timeout": 3})

    assert (env_wins.mode, env_wins.shutdown_timeout) == ("fork", 2)
    assert cli_wins.mode == "async"
    assert cli_wins.shutdown_timeout == 3
    assert cli_wins.process_heartbeat_interval == 20
    assert cli_wins.silence_polling is False
    assert cli_wins.listen_notify is True
    assert {k: cli_wins.sources[k] for k in settings_options} | {
        "listen_notify": cli_wins.sources["listen_notify"]
    } == {
        "mode": "cli",
        "shutdown_timeout": "cli",
        "process_heartbeat_interval": "yaml",
        "silence_polling": "settings",
        "listen_notify": "default",
    }
    assert env_wins.sources["mode"] == "env"


def test_async_mode_normalises_worker_processes(caplog):
    with caplog.at_level(logging.WARNING, logger="djq.config"):
        config = load({"mode": "async", "workers": [{"processes": 4}, {"threads": 2}]})
    assert [w.processes for w in config.workers] == [1, 1]
    assert "workers[0].processes=4 is ignored in async mode" in caplog.text


def test_fork_mode_keeps_worker_processes():
    assert load({"workers": [{"processes": 4}]}).workers[0].processes == 4


def test_recurring_tasks_are_built(write_yaml):
    config = load(
        {
            "recurring": {
                "nightly": {
                    "task_path": "app.tasks.cleanup",
                    "schedule": "0 3 * * * Europe/Paris",
                    "args": [1, [2, 3]],
                    "kwargs": {"dry_run": True},
                    "priority": 5,
                }
            }
        }
    )
    (task,) = config.recurring
    assert (task.key, task.task_path, task.args, task.kwargs) == (
        "nightly",
        "app.tasks.cleanup",
        (1, [2, 3]),
        {"dry_run": True},
    )
    assert config.recurring_task("nightly") is task
    assert task.parse_schedule().timezone.key == "Europe/Paris"


def test_retry_mapping_builds_a_policy():
    config = load({"retry": {"max_attempts": 4, "retry_on": "builtins.OSError"}})
    assert config.retry == RetryPolicy(max_attempts=4, retry_on=("builtins.OSError",))
    assert load({"retry": None}).retry is None


def test_none_is_accepted_where_documented():
    config = load(
        {
            "clear_finished_jobs_after": None,
            "clear_failed_jobs_after": 60,
            "supervisor_pidfile": None,
            "on_thread_error": "logging.exception",
        }
    )
    assert config.clear_finished_jobs_after is None
    assert config.on_thread_error == "logging.exception"


def test_ints_are_accepted_where_floats_are_expected():
    assert load({"workers": [{"polling_interval": 1}]}).workers[0].polling_interval == 1


def test_to_options_loads_back_equal():
    config = load(
        {
            "mode": "async",
            "recurring": {"a": {"task_path": "m.t", "schedule": "@hourly", "kwargs": {"k": [1]}}},
            "retry": {"max_attempts": 2},
        }
    )
    assert load(config.to_options()) == config


class TestAliases:
    def test_djq_aliases_skip_other_backends(self):
        tasks = djq_tasks(inline={"BACKEND": IMMEDIATE}, second={"BACKEND": DJQ})
        with override_settings(TASKS=tasks):
            assert djq_aliases() == ["default", "second"]

    def test_unset_tasks_means_one_implicit_default(self):
        with override_settings():
            del settings.TASKS
            assert djq_aliases() == ["default"]
            assert get_config(environ={}).workers == (WorkerConfig(),)

    def test_empty_tasks_means_one_implicit_default(self):
        with override_settings(TASKS={}):
            assert djq_aliases() == ["default"]
            assert get_config(environ={}).alias == "default"

    def test_unknown_alias(self):
        with (
            override_settings(TASKS=djq_tasks(second={"BACKEND": DJQ})),
            pytest.raises(ConfigurationError) as info,
        ):
            get_config("secnd", environ={})
        assert str(info.value) == (
            "TASKS has no alias 'secnd' (did you mean 'second'?); djq aliases: 'default', 'second'"
        )

    def test_non_djq_alias(self):
        with (
            override_settings(TASKS=djq_tasks(inline={"BACKEND": IMMEDIATE})),
            pytest.raises(ConfigurationError) as info,
        ):
            get_config("inline", environ={})
        assert str(info.value) == (
            f"TASKS['inline'] uses BACKEND '{IMMEDIATE}', which is not djq's"
            " ('djq.backend.DjqBackend'); djq aliases: 'default'"
        )

    def test_unimportable_backend_is_not_djq(self):
        tasks = {"default": {"BACKEND": "nowhere.Backend"}}
        with override_settings(TASKS=tasks):
            assert djq_aliases() == []
            with pytest.raises(ConfigurationError, match="djq aliases: none"):
                get_config(environ={})

    def test_subclass_of_djq_backend_counts(self, monkeypatch):
        backend = pytest.importorskip("djq.backend")
        custom = type("CustomBackend", (backend.DjqBackend,), {})
        monkeypatch.setattr(sys.modules[__name__], "CustomBackend", custom, raising=False)
        with override_settings(TASKS={"custom": {"BACKEND": f"{__name__}.CustomBackend"}}):
            assert djq_aliases() == ["custom"]
            assert get_config("custom", environ={}).alias == "custom"


class TestCache:
    def test_same_inputs_return_the_same_object(self):
        with override_settings(TASKS=djq_tasks()):
            assert get_config(environ={}) is get_config(environ={})
            assert get_config(environ={}) is not get_config(environ={"DJQ_MODE": "async"})

    def test_override_settings_clears_it(self):
        with override_settings(TASKS=djq_tasks({"mode": "fork"})):
            assert get_config(environ={}).mode == "fork"
        with override_settings(TASKS=djq_tasks({"mode": "async"})):
            assert get_config(environ={}).mode == "async"

    def test_edited_yaml_is_reread(self, write_yaml):
        import os

        path = write_yaml("mode: fork\n")
        with override_settings(TASKS=djq_tasks()):
            assert get_config(config_file=path, environ={}).mode == "fork"
            write_yaml("mode: async\n")
            os.utime(path, ns=(1, 1))
            assert get_config(config_file=path, environ={}).mode == "async"


class TestValidateCollectsEverything:
    OPTIONS = {"mdoe": "fork", "workers": [{"threads": 0}], "shutdown_timeout": -1}

    def test_validate_lists_every_problem(self):
        with override_settings(TASKS=djq_tasks(self.OPTIONS)):
            problems = validate(environ={"DJQ_MODE": "x"})
        assert problems == [
            "TASKS['default']['OPTIONS']: unknown option 'mdoe' (did you mean 'mode'?)",
            "TASKS['default']['OPTIONS'] workers[0].threads: expected a positive integer, got 0",
            "TASKS['default']['OPTIONS'] shutdown_timeout: expected a non-negative number, got -1",
            "DJQ_MODE: expected 'fork' or 'async', got 'x'",
        ]

    def test_get_config_raises_the_first_and_keeps_the_rest(self):
        with (
            override_settings(TASKS=djq_tasks(self.OPTIONS)),
            pytest.raises(ConfigurationError) as info,
        ):
            get_config(environ={})
        assert str(info.value) == (
            "TASKS['default']['OPTIONS']: unknown option 'mdoe' (did you mean 'mode'?)"
            " (and 2 more; run `djq check`)"
        )
        assert len(info.value.problems) == 3

    def test_valid_config_has_no_problems(self):
        with override_settings(TASKS=djq_tasks({"mode": "async"})):
            assert validate(environ={}) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("TRUE", True),
        ("yes", True),
        ("On", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
        ("", None),
    ],
)
def test_skip_recurring_from_env(raw, expected):
    assert skip_recurring_from_env({"DJQ_SKIP_RECURRING": raw}) is expected


def test_skip_recurring_unset_and_invalid():
    assert skip_recurring_from_env({}) is None
    with pytest.raises(ConfigurationError) as info:
        skip_recurring_from_env({"DJQ_SKIP_RECURRING": "maybe"})
    assert str(info.value) == (
        "DJQ_SKIP_RECURRING: expected one of 1/true/yes/on or 0/false/no/off, got 'maybe'"
    )
