"""Test-suite wiring: per-run databases, Django settings, and the vendor matrix.

Database tests take the ``alias`` fixture, which runs them once per vendor
(SQLite, PostgreSQL, MariaDB); each alias is both a database and a TASKS
backend whose queue tables live on it. Rows are deleted after every test.
"""

from __future__ import annotations

import os

import pytest

from tests.databases import ALIASES, TestDatabases, vendors

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
_databases = TestDatabases()
_databases.create()

import django  # noqa: E402

django.setup()

DJQ_TABLES = ("djq_job", "djq_process", "djq_pause", "djq_semaphore", "djq_recurring_task", "djq_recurring_execution",
              "djq_throughput")


def pytest_sessionstart(session: pytest.Session) -> None:
    from django.core.management import call_command

    for vendor in vendors():
        call_command("migrate", database=ALIASES[vendor], verbosity=0, interactive=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    from django.db import connections

    connections.close_all()
    _databases.drop()


def _clean(alias: str) -> None:
    from django.db import connections

    with connections[alias].cursor() as cursor:
        for table in DJQ_TABLES:
            cursor.execute(f"DELETE FROM {table}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "alias" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("vendors")
        chosen = [v for v in vendors() if marker is None or v in marker.args]
        metafunc.parametrize("alias", [pytest.param(ALIASES[v], id=v) for v in chosen], indirect=True)


@pytest.fixture
def alias(request: pytest.FixtureRequest):
    """A TASKS alias (and database alias) of one vendor; its djq tables are emptied afterwards."""
    name = request.param
    from django.db import connections

    _clean(name)
    yield name
    connections[name].close()
    try:
        _clean(name)
    finally:
        connections[name].close()


@pytest.fixture
def backend(alias):
    from django.tasks import task_backends

    return task_backends[alias]
