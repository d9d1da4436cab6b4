"""Configuration problems surface as Django system check errors."""

from django.core import checks
from django.test import override_settings

from djq.config.checks import check_backend
from tests.config.conftest import djq_tasks


def test_each_problem_is_an_error():
    with override_settings(TASKS=djq_tasks({"mdoe": "x", "workers": [{"threads": 0}]})):
        errors = check_backend("default", environ={})
    assert [e.id for e in errors] == ["djq.E001", "djq.E001"]
    assert all(isinstance(e, checks.Error) for e in errors)
    assert (
        errors[0].msg == "TASKS['default']['OPTIONS']: unknown option 'mdoe' (did you mean 'mode'?)"
    )


def test_valid_config_has_no_messages():
    with override_settings(TASKS=djq_tasks({"mode": "async"})):
        assert check_backend("default", environ={}) == []


def test_unknown_alias_is_reported_not_raised():
    with override_settings(TASKS=djq_tasks()):
        (error,) = check_backend("nope", environ={})
    assert error.msg.startswith("TASKS has no alias 'nope'")
