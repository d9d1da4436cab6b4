"""Every problem names its layer and exact path, word for word."""

import pytest
from django.conf import settings
from django.test import override_settings

from djq.config import get_config, validate
from djq.exceptions import ConfigurationError
from tests.config.conftest import DJQ, djq_tasks, extra_databases

S = "TASKS['default']['OPTIONS']"


def error_for(options=None, tasks=None, **kwargs):
    kwargs.setdefault("environ", {})
    with (
        override_settings(TASKS=tasks or djq_tasks(options)),
        pytest.raises(ConfigurationError) as info,
    ):
        get_config(**kwargs)
    return str(info.value)


def test_unknown_worker_option_in_settings():
    assert error_for({"workers": [{}, {"thread": 4}]}) == (
        "TASKS['default']['OPTIONS'] workers[1]: unknown option 'thread' (did you mean 'threads'?)"
    )


def test_bad_value_in_backends_yaml(write_yaml):
    path = write_yaml("backends:\n  default:\n    workers:\n      - threads: lots\n")
    assert error_for(config_file=path) == (
        f"{path} backends.default.workers[0].threads: expected a positive integer, got 'lots'"
    )


def test_bad_mode_in_environment():
    assert error_for(environ={"DJQ_MODE": "forkk"}) == (
        "DJQ_MODE: expected 'fork' or 'async', got 'forkk' (did you mean 'fork'?)"
    )


def test_bad_value_on_command_line():
    assert error_for(overrides={"mode": "asink"}) == (
        "command line mode: expected 'fork' or 'async', got 'asink' (did you mean 'async'?)"
    )


def test_unknown_option_on_command_line():
    assert error_for(overrides={"thread": 3}) == "command line: unknown option 'thread'"


def test_flat_yaml_paths(write_yaml):
    path = write_yaml("scheduler:\n  polling_intervall: 5\n")
    assert error_for(config_file=path) == (
        f"{path} scheduler: unknown option 'polling_intervall' (did you mean 'polling_interval'?)"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mdoe": "fork"}, f"{S}: unknown option 'mdoe' (did you mean 'mode'?)"),
        ({"zzz": 1}, f"{S}: unknown option 'zzz'"),
        (
            {"workers": [{"queue": "*"}]},
            f"{S} workers[0]: unknown option 'queue' (did you mean 'queues'?)",
        ),
        (
            {"dispatchers": [{"batch": 5}]},
            f"{S} dispatchers[0]: unknown option 'batch' (did you mean 'batch_size'?)",
        ),
        (
            {"scheduler": {"dynamic_task_enabled": True}},
            f"{S} scheduler: unknown option 'dynamic_task_enabled'"
            " (did you mean 'dynamic_tasks_enabled'?)",
        ),
        (
            {"recurring": {"a": {"task_path": "m.t", "schedul": "@daily"}}},
            f"{S} recurring.a: unknown option 'schedul' (did you mean 'schedule'?)",
        ),
        (
            {"retry": {"max_attempt": 3}},
            f"{S} retry: unknown option 'max_attempt' (did you mean 'max_attempts'?)",
        ),
    ],
)
def test_unknown_keys_at_every_level(options, message):
    assert error_for(options) == message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"workers": [{"threads": True}]},
            f"{S} workers[0].threads: expected a positive integer, got True",
        ),
        (
            {"workers": [{"threads": 2.5}]},
            f"{S} workers[0].threads: expected a positive integer, got 2.5",
        ),
        (
            {"workers": [{"polling_interval": 0}]},
            f"{S} workers[0].polling_interval: expected a positive number, got 0",
        ),
        (
            {"workers": {"threads": 1}},
            f"{S} workers: expected a list of mappings, got {{'threads': 1}}",
        ),
        ({"workers": ["*"]}, f"{S} workers[0]: expected a mapping, got '*'"),
        (
            {"dispatchers": [{"concurrency_maintenance": "yes"}]},
            f"{S} dispatchers[0].concurrency_maintenance: expected true or false, got 'yes'",
        ),
        ({"scheduler": []}, f"{S} scheduler: expected a mapping, got []"),
        (
            {"preserve_finished_jobs": 1},
            f"{S} preserve_finished_jobs: expected true or false, got 1",
        ),
        (
            {"shutdown_timeout": None},
            f"{S} shutdown_timeout: expected a non-negative number, got None",
        ),
        (
            {"clear_finished_jobs_after": "1d"},
            f"{S} clear_finished_jobs_after: expected a positive number or None, got '1d'",
        ),
        (
            {"default_concurrency_duration": float("inf")},
            f"{S} default_concurrency_duration: expected a positive number, got inf",
        ),
        (
            {"supervisor_pidfile": ""},
            f"{S} supervisor_pidfile: expected a non-empty string or None, got ''",
        ),
        ({"mode": None}, f"{S} mode: expected 'fork' or 'async', got None"),
        (
            {"database_alias": "defualt"},
            f"{S} database_alias: unknown database 'defualt' (did you mean 'default'?);"
            " settings.DATABASES has " + ", ".join(repr(a) for a in settings.DATABASES),
        ),
        ({"on_thread_error": "os.sep"}, f"{S} on_thread_error: 'os.sep' is not callable"),
        (
            {"on_thread_error": "nowhere.handler"},
            f"{S} on_thread_error: cannot import 'nowhere.handler' (No module named 'nowhere')",
        ),
        (
            {"on_thread_error": "handler"},
            f"{S} on_thread_error: expected a dotted path to a callable, got 'handler'",
        ),
        (
            {"retry": {"retry_on": ["os.path"]}},
            f"{S} retry.retry_on[0]: 'os.path' is not an exception class",
        ),
        (
            {"retry": {"backoff_factor": 0.5}},
            f"{S} retry.backoff_factor: expected a number of at least 1, got 0.5",
        ),
        ({"retry": "on"}, f"{S} retry: expected a mapping, got 'on'"),
        (
            {"process_alive_threshold": 30},
            f"{S} process_alive_threshold: must be greater than process_heartbeat_interval (60),"
            " got 30",
        ),
        (
            {"process_heartbeat_interval": 400},
            f"{S} process_heartbeat_interval: must be less than process_alive_threshold (300),"
            " got 400",
        ),
    ],
)
def test_type_and_range_errors(options, message):
    assert error_for(options) == message


@pytest.mark.parametrize(
    ("queues", "message"),
    [
        ("", f"{S} workers[0].queues: empty queue name in ''"),
        ("a,,b", f"{S} workers[0].queues: empty queue name in 'a,,b'"),
        (["a", " "], f"{S} workers[0].queues[1]: empty queue name in ['a', ' ']"),
        ([], f"{S} workers[0].queues: expected a queue selector or a list of them, got []"),
        (
            ["em*ail"],
            f"{S} workers[0].queues[0]: '*' is only allowed at the end of a selector, got 'em*ail'",
        ),
        ("*a", f"{S} workers[0].queues: '*' is only allowed at the end of a selector, got '*a'"),
        ([3], f"{S} workers[0].queues[0]: expected a queue name, got 3"),
    ],
)
def test_queue_selector_errors(queues, message):
    assert error_for({"workers": [{"queues": queues}]}) == message


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"task_path": "m.t"}, f"{S} recurring.job: missing required option 'schedule'"),
        (
            {"task_path": "m.t", "schedule": "61 * * * *"},
            f"{S} recurring.job.schedule: invalid cron schedule '61 * * * *':"
            " minute field '61' is out of range",
        ),
        (
            {"task_path": "cleanup", "schedule": "@daily"},
            f"{S} recurring.job.task_path: expected a dotted path to a task, got 'cleanup'",
        ),
        (
            {"task_path": "m.t", "schedule": "@daily", "priority": 101},
            f"{S} recurring.job.priority: expected an integer between -100 and 100, got 101",
        ),
        (
            {"task_path": "m.t", "schedule": "@daily", "args": "x"},
            f"{S} recurring.job.args: expected a list, got 'x'",
        ),
        (
            {"task_path": "m.t", "schedule": "@daily", "args": [{1, 2}]},
            f"{S} recurring.job.args[0]: expected a JSON value, got set {{1, 2}}",
        ),
        (
            {"task_path": "m.t", "schedule": "@daily", "kwargs": {"a": {1: "x"}}},
            f"{S} recurring.job.kwargs.a: JSON object keys must be strings, got 1",
        ),
        (
            {"task_path": "m.t", "schedule": "@daily", "kwargs": {"a": float("nan")}},
            f"{S} recurring.job.kwargs.a: NaN and infinity are not JSON",
        ),
        (
            {"task_path": "m.t", "schedule": "@daily", "queue_name": "mail"},
            f"{S} recurring.job.queue_name: queue 'mail' is not in QUEUES ('email', 'default')"
            " (did you mean 'email'?)",
        ),
        ("m.t", f"{S} recurring.job: expected a mapping, got 'm.t'"),
    ],
)
def test_recurring_errors(entry, message):
    tasks = djq_tasks({"recurring": {"job": entry}}, queues=["email", "default"])
    assert error_for(tasks=tasks) == message


def test_recurring_key_with_odd_characters_is_quoted():
    options = {"recurring": {"nightly job": {"task_path": "m.t"}}}
    assert error_for(options) == f"{S} recurring['nightly job']: missing required option 'schedule'"


class TestSettingsShape:
    def test_options_not_a_mapping(self):
        tasks = {"default": {"BACKEND": DJQ, "OPTIONS": ["mode"]}}
        assert error_for(tasks=tasks) == f"{S}: expected a mapping, got ['mode']"

    def test_queues_not_a_list(self):
        tasks = {"default": {"BACKEND": DJQ, "QUEUES": "default"}}
        assert error_for(tasks=tasks) == (
            "TASKS['default']['QUEUES']: expected a list of queue names, got 'default'"
        )


class TestYamlFileErrors:
    def test_missing_file(self, tmp_path):
        path = str(tmp_path / "nope.yml")
        assert error_for(config_file=path) == f"{path}: config file not found"

    def test_syntax_error_names_the_line(self, write_yaml):
        path = write_yaml("mode: async\nworkers: [\n  threads: 3\nbad: }\n")
        message = error_for(config_file=path)
        assert message.startswith(f"{path} line 4: invalid YAML (")
        assert "\n" not in message

    def test_top_level_must_be_a_mapping(self, write_yaml):
        path = write_yaml("- mode: async\n")
        assert error_for(config_file=path) == (
            f"{path}: expected a mapping of options at the top level, got a list"
        )

    def test_backends_cannot_be_mixed_with_options(self, write_yaml):
        path = write_yaml("mode: async\nbackends: {}\n")
        assert error_for(config_file=path) == (
            f"{path}: 'backends' must be the only top-level key, found also 'mode'"
        )

    def test_backends_must_name_djq_aliases(self, write_yaml):
        path = write_yaml("backends:\n  defualt:\n    mode: async\n")
        assert error_for(config_file=path) == (
            f"{path} backends: unknown djq backend alias 'defualt' (did you mean 'default'?)"
        )

    def test_backend_block_must_be_a_mapping(self, write_yaml):
        path = write_yaml("backends:\n  default: [1]\n")
        assert error_for(config_file=path) == (
            f"{path} backends.default: expected a mapping of options, got a list"
        )

    def test_unknown_top_level_key_in_backend_block(self, write_yaml):
        path = write_yaml("backends:\n  default:\n    workrs: []\n")
        assert error_for(config_file=path) == (
            f"{path} backends.default: unknown option 'workrs' (did you mean 'workers'?)"
        )

    def test_file_problems_are_collected_with_the_rest(self, tmp_path):
        path = str(tmp_path / "nope.yml")
        with override_settings(TASKS=djq_tasks({"mdoe": "x"})):
            assert validate(config_file=path, environ={}) == [
                f"{path}: config file not found",
                f"{S}: unknown option 'mdoe' (did you mean 'mode'?)",
            ]


def test_database_alias_from_another_database():
    with extra_databases("queue"), override_settings(TASKS=djq_tasks({"database_alias": "queue"})):
        assert get_config(environ={}).database_alias == "queue"
