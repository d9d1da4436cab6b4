"""Private database servers for tests that restart, kill or cut off a server.

The suite's shared servers (127.0.0.1:5432 and :3306) must never be stopped by
a test. A test that needs to do that starts its own instance here, under a
temporary directory, on its own port (and, for MariaDB, its own socket):

    with PrivatePostgres() as pg:                      # initdb + postgres from /usr/lib/postgresql/*/bin
        settings = pg.django_settings("djq_chaos")     # a DATABASES entry (the database is created)
        pg.restart("fast")                             # or "immediate"; stop()/start() for longer cuts

    with PrivateMariaDB(options={"max_allowed_packet": "1M"}) as my:
        settings = my.django_settings("djq_chaos")
        my.restart("immediate")                        # SIGKILL, then start again on the same data

Each lives under a fresh temporary directory (or ``root``), removed at exit.
PostgreSQL refuses to run as root, so when the test runs as root the cluster
runs as an unprivileged system user (``djqtest``, created on first use with
``useradd``); MariaDB runs as that user too. ``available()`` says whether the
binaries are installed (the tests skip otherwise; ``.ci/run`` installs them).
``options`` adds server settings (``-c name=value`` for PostgreSQL,
``--name=value`` for MariaDB). ``stop()`` waits until the server is gone;
leaving the ``with`` block stops it whatever happened.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: The unprivileged account private servers run as when the tests run as root.
SERVER_USER = "djqtest"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _server_user() -> tuple[int, int] | None:
    """(uid, gid) to run servers as: an unprivileged account when we are root, else None (ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
                       check=False, capture_output=True)
        entry = pwd.getpwnam(SERVER_USER)
    return entry.pw_uid, entry.pw_gid


class _Server:
    def __init__(self, root: Path | str | None = None, *, options: dict[str, str] | None = None) -> None:
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="djq-server-")) if root is None else Path(root)
        self.options = dict(options or {})
        self.port = free_port()
        self.owner = _server_user()
        self.proc: subprocess.Popen | None = None

    def _prepare_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.owner:
            # The server's user must be able to reach ``root``: give no root
            # inside a private directory (pytest's tmp_path is one).
            os.chown(self.root, *self.owner)

    def _run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        if self.owner:
            kwargs.update(user=self.owner[0], group=self.owner[1], extra_groups=[])
        return subprocess.run(args, capture_output=True, text=True, **kwargs)

    def _popen(self, args: list[str], log: Path) -> subprocess.Popen:
        kwargs = {}
        if self.owner:
            kwargs.update(user=self.owner[0], group=self.owner[1], extra_groups=[])
        with open(log, "ab") as out:
            return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, **kwargs)

    def __enter__(self):
        self.setup()
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop("kill")
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def restart(self, how: str = "fast") -> None:
        """Stop (``fast``: clean, ``immediate``: crash-like) and start again on the same data."""
        self.stop(how)
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class PrivatePostgres(_Server):
    """A PostgreSQL cluster of its own: initdb on first ``setup()``, the postmaster as a child process."""

    @staticmethod
    def bindir() -> Path | None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
        return Path(found[-1]).parent if found else None

    @classmethod
    def available(cls) -> bool:
        return cls.bindir() is not None

    def setup(self) -> None:
        self.bin = self.bindir()
        if self.bin is None:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
        self._prepare_root()
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.log_path = self.root / "server.log"
        if not self.data.exists():
            done = self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                              "--no-sync", "-E", "UTF8", "--locale=C"], cwd=self.root)
            if done.returncode:
                raise RuntimeError(f"initdb failed: {done.stdout}{done.stderr}")
            self._run(["mkdir", "-p", str(self.socket_dir)])

    def start(self) -> None:
        settings = {"listen_addresses": "127.0.0.1", "port": str(self.port),
                    "unix_socket_directories": str(self.socket_dir), "fsync": "off",
                    "max_connections": "200", **self.options}
        args = [str(self.bin / "postgres"), "-D", str(self.data)]
        for name, value in settings.items():
            args += ["-c", f"{name}={value}"]
        self.proc = self._popen(args, self.log_path)
        _wait(lambda: self._ready() or not self.running, 60, f"PostgreSQL on port {self.port}")
        if not self.running:
            raise RuntimeError(f"PostgreSQL did not start:\n{self.log()[-3000:]}")

    def _ready(self) -> bool:
        done = subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                              capture_output=True)
        return done.returncode == 0

    def stop(self, how: str = "fast") -> None:
        """``fast``: SIGINT (abort transactions, shut down cleanly); ``immediate``: SIGQUIT; ``kill``: SIGKILL."""
        if not self.running:
            return
        sig = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT,
               "kill": signal.SIGKILL}[how]
        self.proc.send_signal(sig)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        if how == "kill":  # backends of a SIGKILLed postmaster linger until they notice
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _wait(lambda: not _port_open(self.port), 30, "PostgreSQL to stop")

    def settings(self, database: str = "postgres") -> dict:
        return {"ENGINE": "django.db.backends.postgresql", "NAME": database, "HOST": "127.0.0.1",
                "PORT": str(self.port), "USER": "postgres", "PASSWORD": "", "CONN_MAX_AGE": 0,
                "TEST": {"NAME": database}}

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def django_settings(self, database: str) -> dict:
        self.create_database(database)
        return self.settings(database)


class PrivateMariaDB(_Server):
    """A MariaDB server of its own: mariadb-install-db on first ``setup()``, mariadbd as a child process.

    Grant tables are skipped: anyone on 127.0.0.1 is root, which is all a
    private test server needs.
    """

    @staticmethod
    def server_binary() -> str | None:
        return shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin:/usr/libexec")

    @classmethod
    def available(cls) -> bool:
        return cls.server_binary() is not None and shutil.which("mariadb-install-db") is not None

    def setup(self) -> None:
        self.binary = self.server_binary()
        if not self.available():
            raise RuntimeError("MariaDB server binaries (mariadbd, mariadb-install-db) not found")
        self._prepare_root()
        self.data = self.root / "data"
        self.socket_path = self.root / "mysqld.sock"
        self.log_path = self.root / "server.log"
        if not self.data.exists():
            args = ["mariadb-install-db", "--no-defaults", f"--datadir={self.data}",
                    "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"]
            if self.owner:
                args.append(f"--user={SERVER_USER}")
            done = self._run(args, cwd=self.root)
            if done.returncode:
                raise RuntimeError(f"mariadb-install-db failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        args = [self.binary, "--no-defaults", f"--datadir={self.data}", f"--port={self.port}",
                "--bind-address=127.0.0.1", f"--socket={self.socket_path}", f"--pid-file={self.root / 'mysqld.pid'}",
                "--skip-grant-tables", "--skip-name-resolve", "--innodb-buffer-pool-size=64M",
                "--innodb-flush-log-at-trx-commit=2", "--max-connections=300", "--skip-log-bin",
                f"--log-error={self.log_path}"]
        args += [f"--{name.replace('_', '-')}={value}" for name, value in self.options.items()]
        self.proc = self._popen(args, self.root / "stdout.log")
        _wait(lambda: self._ready() or not self.running, 60, f"MariaDB on port {self.port}")
        if not self.running:
            raise RuntimeError(f"MariaDB did not start:\n{self.log()[-3000:]}")

    def _ready(self) -> bool:
        try:
            self._connect().close()
            return True
        except Exception:
            return False

    def _connect(self, database: str | None = None):
        import MySQLdb

        kwargs = {"db": database} if database else {}
        return MySQLdb.connect(host="127.0.0.1", port=self.port, user="root", passwd="", connect_timeout=2, **kwargs)

    def stop(self, how: str = "fast") -> None:
        """``fast``: SIGTERM (clean shutdown); ``immediate`` or ``kill``: SIGKILL (crash recovery on start)."""
        if not self.running:
            return
        self.proc.send_signal(signal.SIGTERM if how in ("fast", "smart") else signal.SIGKILL)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        _wait(lambda: not _port_open(self.port), 30, "MariaDB to stop")

    def settings(self, database: str) -> dict:
        return {"ENGINE": "django.db.backends.mysql", "NAME": database, "HOST": "127.0.0.1", "PORT": str(self.port),
                "USER": "root", "PASSWORD": "", "OPTIONS": {"charset": "utf8mb4"}, "TEST": {"NAME": database}}

    def create_database(self, name: str) -> None:
        conn = self._connect()
        try:
            conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        finally:
            conn.close()

    def django_settings(self, database: str) -> dict:
        self.create_database(database)
        return self.settings(database)
