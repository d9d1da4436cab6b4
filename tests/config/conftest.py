"""Helpers for the configuration tests: settings builders, no database."""

import warnings
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.test import override_settings

from djq.config import clear_cache

DJQ = "djq.backend.DjqBackend"


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


def djq_tasks(options=None, *, alias="default", queues=None, **others):
    """A TASKS setting with one djq alias (plus ``others``: alias -> params)."""
    params = {"BACKEND": DJQ, "OPTIONS": options or {}}
    if queues is not None:
        params["QUEUES"] = queues
    return {alias: params, **others}


@contextmanager
def extra_databases(*aliases):
    """Make database aliases known to settings; nothing ever connects to them."""
    databases = dict(settings.DATABASES)
    for alias in aliases:
        databases.setdefault(alias, {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Overriding setting DATABASES")
        with override_settings(DATABASES=databases):
            yield


@pytest.fixture
def write_yaml(tmp_path):
    def write(text, name="djq.yml"):
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write
