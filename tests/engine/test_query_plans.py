"""The claim walks a partial index in claim order: no sort, however large the backlog."""

from __future__ import annotations

import re

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests.engine.conftest import EngineWorker

PAYLOAD = '{"args": [1, 2], "kwargs": {}}'


def claim_statement(alias: str, selectors: list[str]) -> tuple[str, list]:
    """The statement ``Dialect.claim`` sends, and its parameters."""
    from django.utils import timezone

    from djq.db.sql import dialect_for

    return dialect_for(alias).claim_sql(alias, selectors, 10, process_id=1, worker_id="planner", now=timezone.now())


@pytest.mark.vendors("postgresql")
@pytest.mark.parametrize(
    ("selectors", "index"), [(["*"], "djq_job_ready"), (["email"], "djq_job_ready_by_queue")]
)
def test_postgresql_claim_uses_the_partial_index(alias, selectors, index):
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "INSERT INTO djq_job (backend_alias, queue_name, task_path, priority, state, payload,"
            " enqueued_at, scheduled_at, attempts)"
            " SELECT %s, CASE WHEN g %% 10 = 0 THEN 'email' ELSE 'default' END, 'tests.tasks.add',"
            " (g %% 21) - 10, CASE WHEN g %% 4 = 0 THEN 'finished' ELSE 'ready' END, %s::jsonb,"
            " now(), now(), '[]'::jsonb FROM generate_series(1, 100000) AS g",
            [alias, PAYLOAD],
        )
        cursor.execute("ANALYZE djq_job")
        sql, params = claim_statement(alias, selectors)
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert re.search(rf"Index (Only )?Scan using {index} on djq_job\b", plan), plan
    assert not re.search(r"^\s*(->\s*)?(Incremental )?Sort\b", plan, re.MULTILINE), plan
    assert "Seq Scan on djq_job" not in plan, plan


@pytest.mark.vendors("sqlite")
@pytest.mark.parametrize(
    ("selectors", "index"), [(["*"], "djq_job_ready"), (["email"], "djq_job_ready_by_queue")]
)
def test_sqlite_claim_uses_the_partial_index(alias, selectors, index):
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100000)"
            " INSERT INTO djq_job (backend_alias, queue_name, task_path, priority, state, payload,"
            " enqueued_at, scheduled_at, attempts)"
            " SELECT %s, CASE WHEN n %% 10 = 0 THEN 'email' ELSE 'default' END, 'tests.tasks.add',"
            " (n %% 21) - 10, CASE WHEN n %% 4 = 0 THEN 'finished' ELSE 'ready' END, %s,"
            " datetime('now'), datetime('now'), '[]' FROM g",
            [alias, PAYLOAD],
        )
        cursor.execute("ANALYZE")
        sql, params = claim_statement(alias, selectors)
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        details = [row[-1] for row in cursor.fetchall()]
    plan = "\n".join(details)
    assert any(re.search(rf"USING (COVERING )?INDEX {index}\b", d) for d in details), plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
    assert not any(re.fullmatch(r"SCAN djq_job", d) for d in details), plan


@pytest.mark.vendors("mysql")
@pytest.mark.parametrize(
    ("selectors", "index"), [(["*"], "djq_job_ready"), (["email"], "djq_job_ready_by_queue")]
)
def test_mariadb_claim_select_uses_the_state_index(alias, selectors, index):
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "INSERT INTO djq_job (backend_alias, queue_name, task_path, priority, state, payload,"
            " enqueued_at, scheduled_at, attempts)"
            " SELECT %s, CASE WHEN seq %% 10 = 0 THEN 'email' ELSE 'default' END, 'tests.tasks.add',"
            " CAST(seq %% 21 AS SIGNED) - 10, CASE WHEN seq %% 4 = 0 THEN 'finished' ELSE 'ready' END, %s,"
            " NOW(6), NOW(6), '[]' FROM seq_1_to_20000",
            [alias, PAYLOAD],
        )
        cursor.execute("ANALYZE TABLE djq_job")
        cursor.fetchall()
        worker = EngineWorker(alias, "planner")
        with CaptureQueriesContext(connections[alias]) as ctx:
            worker.claim(10, selectors)
        select = next(q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT id FROM djq_job"))
        cursor.execute("EXPLAIN " + select)
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    job = next(r for r in rows if r["table"] == "djq_job")
    assert job["key"] == index, rows
    assert "filesort" not in (job["Extra"] or ""), rows
