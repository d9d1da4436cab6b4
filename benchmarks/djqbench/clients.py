"""One way to enqueue for every system: ``enqueue(name, **kwargs)`` and ``enqueue_bulk(name, kwargs_list)``.

djq and dj-queue: django.tasks (``Task.enqueue``, ``backend.enqueue_all``).
procrastinate: its own ``defer`` / ``batch_defer`` through its Django
integration. pgqueuer: ``SyncQueries`` over ``SyncPsycopgDriver`` (its API
for synchronous code such as Django views) on one psycopg connection in
autocommit; a bulk enqueue is one ``enqueue([names], [payloads],
[priorities])`` call (one INSERT ... UNNEST); payloads are the kwargs as JSON.
"""

from __future__ import annotations

import json
import os


class DjangoClient:
    def __init__(self) -> None:
        from benchproj import tasks
        from django.tasks import task_backends

        self.tasks = tasks
        self.backend = task_backends["default"]

    def enqueue(self, name: str, **kwargs):
        return getattr(self.tasks, name).enqueue(**kwargs)

    def calls(self, name: str, kwargs_list: list[dict]):
        task = getattr(self.tasks, name)
        return [(task, (), kw) for kw in kwargs_list]

    def enqueue_bulk(self, calls) -> int:
        return len(self.backend.enqueue_all(calls))

    def close(self) -> None:
        from django.db import connections

        connections.close_all()


class ProcrastinateClient(DjangoClient):
    def __init__(self) -> None:
        from benchproj import tasks

        self.tasks = tasks

    def enqueue(self, name: str, **kwargs):
        return getattr(self.tasks, name).defer(**kwargs)

    def calls(self, name: str, kwargs_list: list[dict]):
        return getattr(self.tasks, name), kwargs_list

    def enqueue_bulk(self, calls) -> int:
        task, kwargs_list = calls
        return len(task.batch_defer(*kwargs_list))


class PgqueuerClient:
    def __init__(self) -> None:
        self.conn = None
        self._queries = None

    @property
    def queries(self):
        if self._queries is None:
            import psycopg
            from pgqueuer.db import SyncPsycopgDriver
            from pgqueuer.queries import SyncQueries

            self.conn = psycopg.connect(os.environ["DJQBENCH_PG_DSN"], autocommit=True)
            self._queries = SyncQueries(SyncPsycopgDriver(self.conn))
        return self._queries

    def enqueue(self, name: str, **kwargs):
        return self.queries.enqueue(name, json.dumps(kwargs).encode())

    def calls(self, name: str, kwargs_list: list[dict]):
        return name, kwargs_list

    def enqueue_bulk(self, calls) -> int:
        # the payload encoding is part of the timed call, as djq's is
        name, kwargs_list = calls
        n = len(kwargs_list)
        return len(self.queries.enqueue([name] * n, [json.dumps(kw).encode() for kw in kwargs_list], [0] * n))

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
            self._queries = None


CLIENTS = {"django": DjangoClient, "procrastinate": ProcrastinateClient, "pgqueuer": PgqueuerClient}
