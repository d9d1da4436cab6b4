"""Per-run test databases on SQLite, PostgreSQL and MariaDB.

Each pytest process creates its own databases (unique names) before Django
is set up, publishes them in ``DJQ_TEST_DATABASES`` so runtime subprocesses
use the same ones, and drops them at the end. ``DJQ_TEST_VENDORS`` narrows
the matrix (``sqlite,postgresql,mysql`` by default).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid

PG = {"HOST": os.environ.get("DJQ_TEST_PG_HOST", "127.0.0.1"), "PORT": os.environ.get("DJQ_TEST_PG_PORT", "5432"),
      "USER": os.environ.get("DJQ_TEST_PG_USER", "postgres"), "PASSWORD": os.environ.get("DJQ_TEST_PG_PASSWORD", "")}
MY = {"HOST": os.environ.get("DJQ_TEST_MYSQL_HOST", "127.0.0.1"), "PORT": os.environ.get("DJQ_TEST_MYSQL_PORT", "3306"),
      "USER": os.environ.get("DJQ_TEST_MYSQL_USER", "root"), "PASSWORD": os.environ.get("DJQ_TEST_MYSQL_PASSWORD", "")}

#: vendor -> database alias used by the suite (also the TASKS alias).
ALIASES = {"sqlite": "default", "postgresql": "postgres", "mysql": "mariadb"}


def vendors() -> list[str]:
    wanted = os.environ.get("DJQ_TEST_VENDORS", "sqlite,postgresql,mysql")
    return [v.strip() for v in wanted.split(",") if v.strip()]


class TestDatabases:
    def __init__(self) -> None:
        self.name = f"djq_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.tmp = tempfile.mkdtemp(prefix="djq-tests-")
        self.created: list[str] = []

    def settings(self) -> dict:
        dbs = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(self.tmp, "djq.sqlite3"),
                           "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE",
                                       "timeout": 20},
                           "TEST": {"NAME": os.path.join(self.tmp, "djq.sqlite3")}}}
        if "postgresql" in vendors():
            dbs["postgres"] = {"ENGINE": "django.db.backends.postgresql", "NAME": self.name, **PG,
                               "CONN_MAX_AGE": 0, "TEST": {"NAME": self.name}}
        if "mysql" in vendors():
            dbs["mariadb"] = {"ENGINE": "django.db.backends.mysql", "NAME": self.name, **MY,
                              "OPTIONS": {"charset": "utf8mb4"}, "TEST": {"NAME": self.name}}
        return dbs

    def create(self) -> None:
        if "postgresql" in vendors():
            import psycopg

            with psycopg.connect(host=PG["HOST"], port=PG["PORT"], user=PG["USER"], password=PG["PASSWORD"] or None,
                                 dbname="postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            self.created.append("postgresql")
        if "mysql" in vendors():
            import MySQLdb

            conn = MySQLdb.connect(host=MY["HOST"], port=int(MY["PORT"]), user=MY["USER"], passwd=MY["PASSWORD"])
            try:
                conn.cursor().execute(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4")
            finally:
                conn.close()
            self.created.append("mysql")
        os.environ["DJQ_TEST_DATABASES"] = json.dumps(self.settings())

    def drop(self) -> None:
        if "postgresql" in self.created:
            import psycopg

            with psycopg.connect(host=PG["HOST"], port=PG["PORT"], user=PG["USER"], password=PG["PASSWORD"] or None,
                                 dbname="postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        if "mysql" in self.created:
            import MySQLdb

            conn = MySQLdb.connect(host=MY["HOST"], port=int(MY["PORT"]), user=MY["USER"], passwd=MY["PASSWORD"])
            try:
                conn.cursor().execute(f"DROP DATABASE IF EXISTS `{self.name}`")
            finally:
                conn.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
