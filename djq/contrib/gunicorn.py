"""Gunicorn server hooks that run djq's runtime in exactly one gunicorn worker per host.

In ``gunicorn.conf.py``::

    from djq.contrib.gunicorn import post_fork, worker_exit

Each worker tries to take a host-wide file lock; the one that gets it runs
the runtime, and when it exits (recycled, crashed) the lock frees and the
next worker to try takes over. Workers without the lock retry every few
seconds on a background thread.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
from typing import Any

LOCK_PATH = os.environ.get("DJQ_GUNICORN_LOCK", os.path.join(tempfile.gettempdir(), "djq-gunicorn.lock"))
RETRY_SECONDS = 5.0

_state: dict[str, Any] = {}


def _try_lock() -> int | None:
    fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _elect(stop: threading.Event, backend_alias: str) -> None:
    while not stop.is_set():
        fd = _try_lock()
        if fd is not None:
            # gunicorn.conf.py imports this module in the arbiter, before Django is set up, and
            # post_fork runs before the worker loads the application: set Django up here.
            import django

            django.setup(set_prefix=False)
            from .embedded import EmbeddedRuntime

            runtime = EmbeddedRuntime(backend_alias)
            _state.update(fd=fd, runtime=runtime)
            runtime.start()
            return
        stop.wait(RETRY_SECONDS)


def post_fork(server: Any, worker: Any, backend_alias: str = "default") -> None:
    stop = threading.Event()
    _state["stop"] = stop
    threading.Thread(target=_elect, args=(stop, backend_alias), name="djq-gunicorn-elect", daemon=True).start()


def worker_exit(server: Any, worker: Any) -> None:
    if "stop" in _state:
        _state["stop"].set()
    runtime = _state.pop("runtime", None)
    if runtime is not None:
        runtime.stop()
    fd = _state.pop("fd", None)
    if fd is not None:
        os.close(fd)
