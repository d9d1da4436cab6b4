"""YAML files with anything in them: problems are one line each, found quickly (issue 10 item 14)."""

from __future__ import annotations

import yaml
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from djq.config import clear_cache, get_config, validate
from djq.config.validation import OPTIONS
from djq.exceptions import ConfigurationError
from tests.properties.strategies import any_text, json_like

yaml_chars = st.text(st.sampled_from([*" \n\t-:[]{}&*!|>'\"%@`#,?.0123456789abcxyz<=", "\u00e9", "\ufeff"]),
                     max_size=80)
option_names = st.one_of(st.sampled_from(sorted(OPTIONS)), st.text(max_size=8))
structured = st.dictionaries(option_names, st.one_of(json_like, st.lists(st.dictionaries(
    st.sampled_from(["threads", "processes", "queues", "polling_interval", "prefetch_multiplier", "batch_size"]),
    json_like, max_size=3), max_size=2)), max_size=4)

TASKS = {"default": {"BACKEND": "djq.backend.DjqBackend", "OPTIONS": {}}}


def _check_file(path) -> None:
    clear_cache()
    with override_settings(TASKS=TASKS):
        problems = validate(config_file=str(path), environ={})
        for problem in problems:
            assert problem and "\n" not in problem and len(problem) < 1500, problem
        try:
            get_config(config_file=str(path), environ={})
        except ConfigurationError as exc:
            assert problems and str(exc).startswith(problems[0])
        else:
            assert problems == []


@given(text=st.one_of(yaml_chars, any_text.map(lambda t: t.replace("\x00", ""))))
def test_item14_any_yaml_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("yaml") / "djq.yml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    _check_file(path)


@given(data=structured)
def test_item14_any_yaml_options(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("yaml") / "djq.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=False), encoding="utf-8")
    _check_file(path)


@given(raw=st.binary(max_size=60))
def test_item14_any_bytes(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("yaml") / "djq.yml"
    path.write_bytes(raw)
    _check_file(path)
