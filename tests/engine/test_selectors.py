"""The queue-selector rule in SQL agrees with the one in Python, case by case, on every vendor."""

from __future__ import annotations

from django.db import connections

from djq import selectors
from tests import tasks

QUEUES = ["default", "email", "emails", "Email", "email_eu", "emailXeu", "e%mail", "e_mail", "100%", "!bang", "x"]
SELECTORS = ["*", "email*", "email", "Email*", "email_*", "e%*", "e_*", "100%*", "!*", "nomatch*", "x", ""]


def test_sql_selector_matches_python(alias):
    task = tasks.add.using(backend=alias)
    for queue in QUEUES:
        task.using(queue_name=queue).enqueue(1, 2)
    for selector in SELECTORS:
        clause, params = selectors.sql_clause(selector)
        with connections[alias].cursor() as cursor:
            cursor.execute(f"SELECT queue_name FROM djq_job WHERE backend_alias = %s{clause}", [alias, *params])
            found = sorted(row[0] for row in cursor.fetchall())
        expected = sorted(q for q in QUEUES if selectors.matches(selector, q))
        assert found == expected, selector
