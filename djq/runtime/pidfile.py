"""One supervisor per pidfile, enforced with an advisory lock (no stale-pid guessing)."""

from __future__ import annotations

import fcntl
import os

from ..exceptions import RuntimeAlreadyRunning


class Pidfile:
    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RuntimeAlreadyRunning(
                f"another supervisor (pid {holder}) holds {self.path}; stop it or use a different pidfile"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd

    def close_inherited(self) -> None:
        """In a forked child: drop the descriptor so only the supervisor holds the lock."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        os.close(self.fd)
        self.fd = None
