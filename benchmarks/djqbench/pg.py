"""The benchmark's own view of the server: an observer role, counters, the statement log.

The harness never measures through the connections of the system under
test. Its monitoring queries run as the role ``djqbench_observer`` (created
by ``pg.sh start``), so pg_stat_statements rows can be split by user, and
the statistics views are read from the ``postgres`` database, so reading
them adds no transactions to the measured database.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

OBSERVER = "djqbench_observer"
LOG_FILE = "log/postgresql.log"  # relative to the data directory; see pg.sh


@dataclass(frozen=True)
class Server:
    """Where the benchmark databases live: one database per system, ``<base>_<system>``."""

    host: str
    port: int
    user: str
    password: str
    base: str

    @classmethod
    def from_url(cls, url: str) -> Server:
        u = urlparse(url)
        if u.scheme not in ("postgres", "postgresql"):
            raise SystemExit(f"--db must be a postgresql:// URL, got {url!r}")
        return cls(
            host=u.hostname or "127.0.0.1",
            port=u.port or 5432,
            user=unquote(u.username or "postgres"),
            password=unquote(u.password or ""),
            base=u.path.lstrip("/") or "djqbench",
        )

    def dbname(self, system: str) -> str:
        return f"{self.base}_{system}"

    def django_database(self, system: str, conn_max_age: int) -> dict:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.dbname(system),
            "USER": self.user,
            "PASSWORD": self.password,
            "HOST": self.host,
            "PORT": str(self.port),
            "CONN_MAX_AGE": conn_max_age,
        }

    def dsn(self, system: str) -> str:
        """A libpq URL of the system's database, as the system's own user."""
        from urllib.parse import quote

        auth = quote(self.user) + (":" + quote(self.password) if self.password else "")
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname(system)}"

    def connect(self, dbname: str = "postgres", *, observer: bool = True):
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, dbname=dbname, autocommit=True,
            user=OBSERVER if observer else self.user, password=None if observer else (self.password or None),
        )

    def ensure_database(self, system: str) -> None:
        name = self.dbname(system)
        with self.connect() as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')


class Observer:
    """Counters of one database, read from outside it."""

    def __init__(self, server: Server, system: str) -> None:
        self.server = server
        self.dbname = server.dbname(system)
        self.admin = server.connect("postgres")
        self.dbid = self.admin.execute("SELECT oid FROM pg_database WHERE datname = %s", [self.dbname]).fetchone()[0]
        self.observer_id = self.admin.execute("SELECT oid FROM pg_roles WHERE rolname = %s", [OBSERVER]).fetchone()[0]
        self.has_statements = bool(self.admin.execute(
            "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'").fetchone())

    def close(self) -> None:
        self.admin.close()

    # -- pg_stat_database ------------------------------------------------------

    def xact_commit(self) -> int:
        self.admin.execute("SELECT pg_stat_clear_snapshot()")
        return self.admin.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datid = %s", [self.dbid]).fetchone()[0]

    # -- pg_stat_statements ----------------------------------------------------

    def reset_statements(self) -> None:
        if self.has_statements:
            self.admin.execute("SELECT pg_stat_statements_reset(0, %s, 0)", [self.dbid])

    def statement_calls(self) -> int:
        """Statements run in the database so far, the observer's own excluded."""
        if not self.has_statements:
            return 0
        row = self.admin.execute(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = %s AND userid <> %s",
            [self.dbid, self.observer_id],
        ).fetchone()
        return int(row[0])

    def statements(self) -> list[dict]:
        """Every statement seen since the last reset, most called first (observer excluded)."""
        if not self.has_statements:
            return []
        rows = self.admin.execute(
            "SELECT calls, total_exec_time, rows, query FROM pg_stat_statements"
            " WHERE dbid = %s AND userid <> %s ORDER BY calls DESC, total_exec_time DESC",
            [self.dbid, self.observer_id],
        ).fetchall()
        return [
            {"calls": calls, "total_ms": total, "rows": n, "query": " ".join(query.split())}
            for calls, total, n, query in rows
        ]

    # -- backends and the statement log -----------------------------------------

    def backends(self) -> dict[int, int]:
        """Backend pid -> client TCP port, for the database's client connections (observer excluded)."""
        rows = self.admin.execute(
            "SELECT pid, client_port FROM pg_stat_activity"
            " WHERE datid = %s AND usesysid <> %s AND client_port IS NOT NULL",
            [self.dbid, self.observer_id],
        ).fetchall()
        return {pid: port for pid, port in rows}

    def log_statements(self, on: bool) -> None:
        """Log every statement of new sessions in the database (superuser setting)."""
        if on:
            self.admin.execute(f'ALTER DATABASE "{self.dbname}" SET log_statement = \'all\'')
        else:
            self.admin.execute(f'ALTER DATABASE "{self.dbname}" RESET log_statement')

    def log_size(self) -> int | None:
        try:
            return self.admin.execute("SELECT size FROM pg_stat_file(%s)", [LOG_FILE]).fetchone()[0]
        except Exception:
            return None

    def read_log(self, start: int, end: int) -> str:
        data = self.admin.execute(
            "SELECT pg_read_binary_file(%s, %s, %s)", [LOG_FILE, start, max(0, end - start)]).fetchone()[0]
        return bytes(data).decode("utf-8", "replace")


# "2025-01-01 10:00:00.123 UTC [4242] dbname user LOG:  statement: SELECT ..."
# (extended-protocol statements log as "execute <name>: ...")
LOG_STATEMENT = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] (\S+) (\S+) LOG:  (?:statement|execute [^:]*): (.*)$")


def count_logged_statements(text: str, dbname: str) -> tuple[dict[int, int], dict[str, int]]:
    """Statements per backend pid, and per first words of the statement, for one database."""
    per_pid: dict[int, int] = {}
    per_kind: dict[str, int] = {}
    for line in text.splitlines():
        m = LOG_STATEMENT.match(line)
        if not m or m.group(2) != dbname or m.group(3) == OBSERVER:
            continue
        pid = int(m.group(1))
        per_pid[pid] = per_pid.get(pid, 0) + 1
        words = " ".join(m.group(4).split()[:3])[:60]
        per_kind[words] = per_kind.get(words, 0) + 1
    return per_pid, per_kind


LOG_TIMED = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) (\S+) \[(\d+)\] (\S+) (\S+) LOG:  (?:statement|execute [^:]*): (.*)$")


def logged_statements(text: str, dbname: str) -> list[tuple[float, int, str]]:
    """(time, backend pid, statement) of the database's logged statements, observer excluded (UTC log)."""
    from datetime import UTC, datetime

    out = []
    for line in text.splitlines():
        m = LOG_TIMED.match(line)
        if not m or m.group(4) != dbname or m.group(5) == OBSERVER:
            continue
        if m.group(2) not in ("UTC", "GMT"):
            raise RuntimeError(f"server log time zone is {m.group(2)}, expected UTC (log_timezone, see pg.sh)")
        ts = datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC).timestamp()
        out.append((ts, int(m.group(3)), m.group(6)))
    return out


def wait_for_backends_to_exit(observer: Observer, timeout: float = 5.0) -> None:
    """Exiting backends flush their statistics; wait until the database has no client left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and observer.backends():
        time.sleep(0.05)
    time.sleep(0.1)
