"""Starting and stopping a system's worker runtime, and finding out which process owns what."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# Several commands (one per worker process): a leader starts them all and
# passes SIGTERM on, so the group stops the way a single runtime does.
LAUNCHER = (
    "import json, signal, subprocess, sys\n"
    "procs = [subprocess.Popen(c) for c in json.loads(sys.argv[1])]\n"
    "signal.signal(signal.SIGTERM, lambda *a: [p.terminate() for p in procs])\n"
    "sys.exit(max(p.wait() for p in procs))\n"
)


class Runtime:
    """The runtime's commands in one process group of their own; always stopped, by SIGTERM then SIGKILL.

    Several commands (systems started as one process per worker) run under
    a small leader that passes SIGTERM on to each of them.
    """

    def __init__(self, commands: list[list[str]], *, env: dict, cwd: Path, log: Path) -> None:
        self.commands = commands
        self.others: list[subprocess.Popen] = []
        self.env = env
        self.cwd = cwd
        self.log_path = log
        self.proc: subprocess.Popen | None = None
        self.spawned_at = 0.0  # time.time() just before the spawn
        self.stop_info: dict = {}

    def __enter__(self) -> Runtime:
        self._log = open(self.log_path, "ab")
        self.spawned_at = time.time()
        command = self.commands[0] if len(self.commands) == 1 else [sys.executable, "-c", LAUNCHER,
                                                                      json.dumps(self.commands)]
        self.proc = subprocess.Popen(
            command, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def check(self) -> None:
        for proc in [self.proc, *self.others]:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"runtime exited early with code {proc.returncode}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_bytes(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    def stop(self, timeout: float = 20.0) -> dict:
        if self.proc is None or self.stop_info:
            return self.stop_info
        t0 = time.monotonic()
        for proc in [self.proc, *self.others]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        killed = False
        while self._group_alive():
            for proc in [self.proc, *self.others]:
                proc.poll()  # reap them so the group can empty
            if time.monotonic() - t0 > timeout:
                killed = True
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                break
            time.sleep(0.05)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()
        self.stop_info = {"stop_s": round(time.monotonic() - t0, 3), "sigkill": killed}
        return self.stop_info


# -- /proc: which OS process holds which connection ------------------------------


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


def _tcp_ports_by_inode(server_port: int) -> dict[int, int]:
    """Socket inode -> local port, for TCP connections to ``server_port``."""
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, remote, inode = parts[1], parts[2], int(parts[9])
            if int(remote.rsplit(":", 1)[1], 16) == server_port and inode:
                out[inode] = int(local.rsplit(":", 1)[1], 16)
    return out


def client_ports_by_process(root: int, server_port: int) -> dict[int, int]:
    """Local TCP port -> OS pid, for every connection to the server held by ``root``'s process tree."""
    by_inode = _tcp_ports_by_inode(server_port)
    owners = {}
    for pid in descendants(root):
        for inode in _socket_inodes(pid):
            if inode in by_inode:
                owners[by_inode[inode]] = pid
    return owners
