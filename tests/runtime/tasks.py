"""Tasks only the runtime tests enqueue (the shared ones are in ``tests/tasks.py``)."""

from __future__ import annotations

from django.db import connections
from django.tasks import task


@task
def query(database: str) -> int:
    """Touch the database from the task thread, as most real tasks do."""
    with connections[database].cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0]
