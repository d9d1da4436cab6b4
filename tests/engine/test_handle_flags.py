"""``use_skip_locked`` and ``listen_notify`` reach the operations layer, not only the hot path.

Every ops and engine function works from the backend's handle, whose
dialect carries both flags; these tests watch the SQL an operator verb
sends on PostgreSQL (the one vendor where both change the statements).
"""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from djq.ops import jobs as ops_jobs
from djq.ops import queues as ops_queues
from tests.engine import tasks_extra
from tests.engine.conftest import djq_entry

pytestmark = pytest.mark.vendors("postgresql")


def sql_of(alias, action) -> str:
    with CaptureQueriesContext(connections[alias]) as queries:
        action()
    return "\n".join(q["sql"] for q in queries.captured_queries)


def entry_with(alias, **options):
    entry = djq_entry(alias)
    entry["OPTIONS"].update(options)
    return entry


@pytest.mark.parametrize("skip_locked", [True, False])
def test_use_skip_locked_reaches_discard(alias, tasks_setting, concurrency, skip_locked):
    """Discarding a ready limited job gives its slot to the next blocked job under the dialect's lock clause."""
    concurrency(tasks_extra.keyed, key="account:{account_id}", limit=1)
    with tasks_setting(entry_with(alias, use_skip_locked=skip_locked)):
        task = tasks_extra.keyed.using(backend=alias)
        first = task.enqueue(account_id=1)
        task.enqueue(account_id=1)  # blocked behind the first
        sql = sql_of(alias, lambda: ops_jobs.discard(ops_jobs.JobFilter(backend_alias=alias, ids=(int(first.id),))))
    assert "FOR UPDATE" in sql
    assert ("SKIP LOCKED" in sql) is skip_locked


@pytest.mark.parametrize("notify", [True, False])
def test_listen_notify_reaches_resume(alias, tasks_setting, notify):
    with tasks_setting(entry_with(alias, listen_notify=notify)):
        ops_queues.pause(alias, "mail")
        sql = sql_of(alias, lambda: ops_queues.resume(alias, "mail"))
    assert ("pg_notify" in sql) is notify


@pytest.mark.parametrize("notify", [True, False])
def test_listen_notify_reaches_retry(alias, tasks_setting, run_claimed, notify):
    from tests import tasks

    with tasks_setting(entry_with(alias, listen_notify=notify)):
        tasks.fail.using(backend=alias).enqueue()
        run_claimed(alias)
        sql = sql_of(alias, lambda: ops_jobs.retry(ops_jobs.JobFilter(backend_alias=alias)))
    assert ("pg_notify" in sql) is notify
