"""Keep djq's tables and queries on the queue databases.

Every djq operation names its database explicitly; the router is there so
that ``migrate --database X`` creates djq's tables on every database a djq
backend uses (and nowhere else), and so that ORM code that forgets ``using``
still lands on the queue database of the default backend.
"""

from typing import Any


def _queue_databases() -> set[str]:
    from .db.aliases import queue_databases

    return queue_databases()


class DjqRouter:
    app_label = "djq"

    def _default_db(self) -> str | None:
        from .db.aliases import default_queue_database

        return default_queue_database()

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        if model._meta.app_label == self.app_label:
            return self._default_db()
        return None

    db_for_write = db_for_read

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        if app_label == self.app_label:
            return db in _queue_databases()
        return None
