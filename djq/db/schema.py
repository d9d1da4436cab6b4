"""Whether djq's tables are there: the migrations still to apply on a database."""

from __future__ import annotations

from django.db import connections
from django.db.migrations.executor import MigrationExecutor


def pending_migrations(database: str) -> list[str]:
    """djq's migrations not yet applied on ``database``, in the order they would run."""
    executor = MigrationExecutor(connections[database])
    targets = [key for key in executor.loader.graph.leaf_nodes() if key[0] == "djq"]
    plan = executor.migration_plan(targets)
    return [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]
