"""Helpers for the CLI tests: the command tree in-process, real ``djq`` subprocesses, and fixture data.

- ``cli(alias)`` runs ``djq --backend <alias> ...`` through Typer's runner in
  this process (Django is already set up, so ``State(django_ready=True)``).
- ``terminal`` makes the runner's streams report a terminal, for the Rich
  tables and the prompts.
- ``run_djq(...)`` starts the real console script; ``run_in_pty(...)`` does
  so on a pseudo-terminal.
- Data comes from djq's own APIs: tasks enqueued through Django's task API,
  then claimed, executed and finished like a worker does (``work``).
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ROOT = Path(__file__).resolve().parents[2]
DJQ = ROOT / ".venv" / "bin" / "djq"
DJANGO_ADMIN = ROOT / ".venv" / "bin" / "django-admin"


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


def invoke(args: Sequence[str], *, input: str | None = None) -> Run:
    from djq_cli.context import State
    from djq_cli.main import app

    result = CliRunner().invoke(app, list(args), input=input, obj=State(django_ready=True))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, plain(result.stdout), plain(result.stderr))


def plain(text: str) -> str:
    """Text without ANSI styles (Rich emits bold even under NO_COLOR)."""
    return ANSI.sub("", text)


@pytest.fixture(scope="session", autouse=True)
def _build_the_tree_once():
    """Typer rebuilds the whole Click tree on every invoke (~0.2 s); build it once per session."""
    import typer.testing

    built = {}
    original = typer.testing._get_command

    def get_command(app):
        if id(app) not in built:
            built[id(app)] = original(app)
        return built[id(app)]

    typer.testing._get_command = get_command
    yield
    typer.testing._get_command = original


@pytest.fixture
def cli(alias):
    """``cli("queues", "list", json=True)``: run a command against the test's backend."""

    def run(*args: str, json: bool = False, input: str | None = None) -> Run:
        return invoke(["--backend", alias, *(["--json"] if json else []), *args], input=input)

    return run


@pytest.fixture
def terminal(monkeypatch):
    """Make the runner's stdin, stdout and stderr look like a terminal."""
    import typer.testing

    monkeypatch.setattr(typer.testing._NamedTextIOWrapper, "isatty", lambda self: True, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")


# -- fixture data ---------------------------------------------------------------


def enqueue(alias: str, task=None, *args, queue: str = "default", **kwargs) -> int:
    from tests import tasks

    if task is None:
        task, args = tasks.add, args or (1, 2)
    return int(task.using(backend=alias, queue_name=queue).enqueue(*args, **kwargs).id)


def work(database: str, backend_alias: str | None = None) -> list[int]:
    """Claim every ready job of the backend and run it in this thread, as a worker would."""
    from django.utils import timezone

    from djq.db.sql import dialect_for
    from djq.engine.execution import execute
    from djq.engine.processes import deregister, register

    backend_alias = backend_alias or database
    dialect = dialect_for(database)
    pid = register(database, backend_alias=backend_alias, kind="worker", name="cli-test-worker",
                   hostname="test", pid=os.getpid())
    try:
        claimed = dialect.claim(backend_alias, ["*"], 1000, process_id=pid, worker_id="cli-test-worker-1",
                                now=timezone.now())
        dialect.finish(pid, [execute(job).outcome for job in claimed])
    finally:
        deregister(database, pid)
    return [job.id for job in claimed]


def failed_jobs(alias: str, n: int = 1, *, queue: str = "default", message: str = "boom") -> list[int]:
    from tests import tasks

    ids = [enqueue(alias, tasks.fail, message, queue=queue) for _ in range(n)]
    work(alias)
    return ids


def register_process(alias: str, kind: str = "worker", name: str | None = None) -> int:
    from djq.engine.processes import register

    return register(alias, backend_alias=alias, kind=kind, name=name or f"{kind}-1", hostname="test",
                    pid=os.getpid())


# -- real processes ----------------------------------------------------------------


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJQ_DATABASE_URL", "DJQ_BACKEND"))}
    env.update({"DJANGO_SETTINGS_MODULE": "tests.settings", "DJQ_TEST_LOG": "WARNING", "NO_COLOR": "1",
                "PYTHONDONTWRITEBYTECODE": "1"})
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_djq(*args: str, env: dict | None = None, cwd: Path | str = ROOT, input: str | None = None,
            program: Path = DJQ, timeout: float = 60) -> Run:
    """The real console script, stdin/stdout/stderr not terminals."""
    proc = subprocess.run([str(program), *args], cwd=cwd, env=env or subprocess_env(), input=input or "",
                          capture_output=True, text=True, timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def run_in_pty(*args: str, env: dict | None = None, answer: str | None = None, timeout: float = 60,
               columns: int = 160) -> Run:
    """The real console script on a pseudo-terminal; ``answer`` is typed at the first prompt.

    A terminal merges stdout and stderr, so ``stdout`` holds both.
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen([str(DJQ), *args], cwd=ROOT, env=env or subprocess_env(), stdin=slave, stdout=slave,
                            stderr=slave, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    answered = answer is None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
                if not answered and b"[y/N]" in b"".join(chunks):
                    os.write(master, answer.encode() + b"\n")
                    answered = True
            elif proc.poll() is not None:
                break
        proc.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = plain(b"".join(chunks).decode(errors="replace").replace("\r\n", "\n"))
    return Run(proc.returncode, text, "")
