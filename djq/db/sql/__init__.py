"""Hot-path SQL, one module per database vendor.

Every statement that runs per job (insert, claim, finish) or per poll
(promote) lives here, behind the small interface of ``Dialect``. Cold paths
(operator verbs, listings) use the ORM in ``djq.ops``.
"""

from functools import cache

from django.db import connections

from .base import Dialect


@cache
def _dialect_class(vendor: str) -> type[Dialect]:
    if vendor == "postgresql":
        from .postgresql import PostgresDialect

        return PostgresDialect
    if vendor == "mysql":
        from .mysql import MySQLDialect

        return MySQLDialect
    if vendor == "sqlite":
        from .sqlite import SQLiteDialect

        return SQLiteDialect
    from ...exceptions import ConfigurationError

    raise ConfigurationError(f"djq supports PostgreSQL, MySQL/MariaDB and SQLite, not {vendor!r}")


def dialect_for(database: str, *, use_skip_locked: bool = True, notify: bool = True) -> Dialect:
    """The SQL dialect for a database alias."""
    connection = connections[database]
    return _dialect_class(connection.vendor)(database, use_skip_locked=use_skip_locked, notify=notify)


@cache
def stores_nul(database: str) -> bool:
    """Whether the database can keep a NUL character in JSON text (no connection needed)."""
    return _dialect_class(connections[database].vendor).stores_nul


__all__ = ["Dialect", "dialect_for", "stores_nul"]
