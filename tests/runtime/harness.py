"""Helpers for the end-to-end runtime tests: real `djq start` processes, waits with deadlines.

A ``Runtime`` is one ``djq --backend <alias> start`` subprocess in its own
process group, with stdout and stderr in files of the test's tmp directory.
Options reach it through ``DJQ_TEST_OPTIONS`` (merged into every alias's
OPTIONS by ``tests/settings.py``); its databases through ``DJQ_TEST_DATABASES``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DJQ = ROOT / ".venv" / "bin" / "djq"

#: Short intervals so that the suite runs in minutes: heartbeats every second,
#: a process unheard of for 3 s is dead, workers poll every 50 ms.
FAST_OPTIONS: dict[str, Any] = {
    "workers": [{"queues": ["*"], "threads": 2, "polling_interval": 0.05}],
    "dispatchers": [{"polling_interval": 0.1}],
    "process_heartbeat_interval": 1,
    "process_alive_threshold": 3,
    "shutdown_timeout": 5,
}


def wait_until[T](predicate: Callable[[], T], timeout: float = 15.0, message: str = "condition",
               interval: float = 0.05) -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class Runtime:
    """One `djq start` subprocess."""

    def __init__(self, alias: str, *args: str, tmp: Path, options: dict | None = None,
                 env: dict[str, str] | None = None, databases: dict | None = None, name: str = "runtime") -> None:
        self.alias = alias
        self.args = list(args)
        self.options = {**FAST_OPTIONS, **(options or {})}
        self.extra_env = env or {}
        self.databases = databases
        self.stdout_path = tmp / f"{name}.out"
        self.stderr_path = tmp / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    # -- process control -------------------------------------------------------

    def environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("DJQ_SKIP_RECURRING", None)
        env.update(DJANGO_SETTINGS_MODULE="tests.settings", PYTHONUNBUFFERED="1",
                   DJQ_TEST_OPTIONS=json.dumps(self.options))
        if self.databases is not None:
            env["DJQ_TEST_DATABASES"] = json.dumps(self.databases)
        env.update(self.extra_env)
        return env

    def start(self) -> Runtime:
        command = [str(DJQ), "--backend", self.alias, "start", *self.args]
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=self.environ(), stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"djq start (pid {self.pid}) still running {timeout}s later\n{self.log()}") from None

    def stop(self, timeout: float = 15.0, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` (SIGTERM: drain) and wait for the supervisor to exit."""
        if self.alive():
            self.send(sig)
        return self.wait_exit(timeout)

    def kill(self) -> None:
        """Teardown: SIGKILL whatever is left of this runtime's process group."""
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            # The supervisor is gone; kill its orphaned children, if any. A
            # group led by a process with our old pid would not be ours.
            out = subprocess.run(["ps", "-o", "pid=", "-g", str(self.pid)], capture_output=True, text=True)
            members = [int(p) for p in out.stdout.split()]
            if not members or self.pid in members:
                return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass

    # -- output ----------------------------------------------------------------

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def log(self) -> str:
        return self.stderr() + self.stdout()

    def wait_for_log(self, text: str, timeout: float = 15.0, after: int = 0) -> int:
        """Wait until ``text`` appears in the log past offset ``after``; returns the offset after it."""
        def found():
            log = self.log()
            at = log.find(text, after)
            return at + len(text) if at >= 0 else None

        return wait_until(found, timeout, f"{text!r} in the log of djq start\n--- log ---\n{self.log()}")

    # -- process rows ------------------------------------------------------------

    def rows(self) -> list[dict]:
        """This runtime's djq_process rows: its supervisor's and its children's."""
        from djq.models import Process

        qs = Process.objects.using(self.alias).values("id", "kind", "name", "pid", "supervisor_id")
        rows = list(qs)
        sup = [r["id"] for r in rows if r["kind"] == "supervisor" and r["pid"] == self.pid]
        return [r for r in rows if r["id"] in sup or r["supervisor_id"] in sup]

    def kinds(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for row in self.rows():
            counts[row["kind"]] += 1
        return dict(counts)

    def wait_ready(self, *kinds: str, timeout: float = 20.0) -> dict[str, int]:
        """Wait until the supervisor and one runner of each kind have registered."""
        wanted = {"supervisor", *kinds}

        def ready():
            if not self.alive():
                raise AssertionError(f"djq start exited with {self.proc.returncode}\n{self.log()}")
            counts = self.kinds()
            return counts if wanted <= counts.keys() else None

        return wait_until(ready, timeout, f"{sorted(wanted)} registered\n--- log ---\n{self.log()}")

    def pids_of(self, kind: str) -> list[int]:
        return [r["pid"] for r in self.rows() if r["kind"] == kind]

    def child_pids(self) -> list[int]:
        """The supervisor's live child processes, as `ps` sees them."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]


# -- jobs --------------------------------------------------------------------------

def states(alias: str, ids: Iterable[str | int]) -> dict[int, str]:
    from djq.models import Job

    return dict(Job.objects.using(alias).filter(id__in=[int(i) for i in ids]).values_list("id", "state"))


def wait_for_states(alias: str, ids: Iterable[str | int], wanted: Iterable[str] = ("finished", "failed"),
                    timeout: float = 20.0, runtime: Runtime | None = None) -> dict[int, str]:
    """Wait until every job is in one of the ``wanted`` states; returns id -> state."""
    ids, wanted = [int(i) for i in ids], set(wanted)

    def done():
        current = states(alias, ids)
        return current if len(current) == len(ids) and set(current.values()) <= wanted else None

    def message():
        return f"jobs {ids} to reach {sorted(wanted)}"

    try:
        return wait_until(done, timeout, message())
    except AssertionError as exc:
        log = f"\n--- log ---\n{runtime.log()}" if runtime else ""
        raise AssertionError(f"{exc}; they are {states(alias, ids)}{log}") from None


def last_error_class(result) -> str | None:
    return result.errors[-1].exception_class_path if result.errors else None


# -- the record task's file ------------------------------------------------------------

@dataclass(frozen=True)
class Record:
    event: str  # "start" or "end"
    token: str
    pid: int
    at: float


def read_records(path: Path | str) -> list[Record]:
    """The lines ``tests.tasks.record`` wrote (whole lines only)."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4:
            records.append(Record(parts[0], parts[1], int(parts[2]), float(parts[3])))
    return records


def assert_never_concurrent(records: list[Record]) -> None:
    """No token was started again before its previous run ended (per-token intervals never overlap)."""
    open_runs: dict[str, Record] = {}
    for rec in sorted(records, key=lambda r: (r.at, r.event != "end")):
        if rec.event == "start":
            assert rec.token not in open_runs, f"{rec.token} started twice at once: {open_runs[rec.token]}, {rec}"
            open_runs[rec.token] = rec
        else:
            assert open_runs.pop(rec.token, None) is not None, f"{rec.token} ended without a start"
