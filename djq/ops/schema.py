"""The schema as operators see it: which databases hold djq's tables and what is left to migrate."""

from __future__ import annotations

from ..db.aliases import queue_databases
from ..db.schema import pending_migrations

__all__ = ["pending_migrations", "queue_databases"]
