"""Supervisors: start the runners of one backend, restart the ones that die, recover their work.

``fork`` mode (``djq.runtime.fork``) gives every runner its own process (a worker entry with
``processes: N`` gives N); ``async`` mode (``djq.runtime.threaded``) runs them as threads of
one process. SIGTERM and SIGINT drain within ``shutdown_timeout``; SIGQUIT stops
at once (jobs left running end failed with ``ProcessExitError``).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections

from ..config import BackendConfig
from ..engine import processes
from ..engine.handle import Handle
from ..hooks import run_hooks
from ..models import Process
from . import errors
from .base import DB_ERRORS, Runner
from .dispatcher import Dispatcher
from .migrations import wait_for_migrations
from .pidfile import Pidfile
from .procline import set_title
from .scheduler import Scheduler
from .worker import Worker

logger = logging.getLogger("djq.runtime")

#: How often the supervisor looks for processes that stopped heartbeating.
PRUNE_INTERVAL = 30.0

#: A control loop that went this long between two rounds (or longer than half
#: the alive threshold) was frozen (SIGSTOP, a suspended VM): what it sees of
#: heartbeats right after is no better than after an outage.
FROZEN_AFTER = 5.0


@dataclass
class Slot:
    """One runner the supervisor keeps alive."""

    kind: str
    name: str
    build: Callable[[int | None], Runner]
    pid: int | None = None
    thread: threading.Thread | None = None
    runner: Runner | None = None
    started_at: float = 0.0
    quick_failures: int = 0
    restart_at: float = 0.0
    extra: dict = field(default_factory=dict)


def plan(config: BackendConfig, *, only_work: bool = False, only_dispatch: bool = False,
         skip_recurring: bool = False) -> list[Slot]:
    """The runners a supervisor starts for these flags."""
    slots: list[Slot] = []
    if not only_dispatch:
        for i, w in enumerate(config.workers, 1):
            count = 1 if config.mode == "async" else w.processes
            for p in range(1, count + 1):
                name = f"worker-{i}" if count == 1 else f"worker-{i}.{p}"
                slots.append(Slot("worker", name, lambda sid, w=w, name=name: Worker(config, w, name=name,
                                                                                     supervisor_id=sid)))
    if not only_work:
        for i, d in enumerate(config.dispatchers, 1):
            name = f"dispatcher-{i}"
            slots.append(Slot("dispatcher", name, lambda sid, d=d, name=name: Dispatcher(config, d, name=name,
                                                                                         supervisor_id=sid)))
    if not (only_work or only_dispatch or skip_recurring):
        probe = Scheduler(config)
        if probe.wanted:
            slots.append(Slot("scheduler", "scheduler", lambda sid: Scheduler(config, supervisor_id=sid)))
    return slots


class Supervisor:
    """Shared by both modes: the supervisor's own row, recovery, and the control loop."""

    kind = "supervisor"

    def __init__(self, config: BackendConfig, slots: list[Slot], *, migration_wait_timeout: float = 60.0,
                 standalone: bool = True) -> None:
        self.config = config
        self.database = config.database_alias
        self.handle = Handle(config.alias, config)
        self.slots = slots
        self.migration_wait_timeout = migration_wait_timeout
        self.standalone = standalone
        self.name = f"supervisor-{os.getpid()}"
        self.hostname = socket.gethostname()
        self.process_id: int | None = None
        self.stopping = False
        self.immediate = False
        self.pidfile = Pidfile(config.supervisor_pidfile) if config.supervisor_pidfile and standalone else None
        self._last_heartbeat = 0.0
        self._last_prune = 0.0
        self._last_round = 0.0
        self._connected_since = 0.0
        self._housekeeping_down = False

    # -- hooks and errors ------------------------------------------------------

    def report(self, exc: BaseException) -> None:
        errors.report(exc, self.config.on_thread_error)

    def hook(self, moment: str) -> None:
        run_hooks(f"supervisor.{moment}", self, self.report)

    # -- start and stop ----------------------------------------------------------

    def start(self) -> bool:
        """Register and recover; False when a stop came while waiting for migrations (nothing started)."""
        set_title(f"supervisor [{self.config.alias}] {self.config.mode} mode", name="supervisor")
        if self.pidfile:
            self.pidfile.acquire()
        if not wait_for_migrations(
            self.database, self.migration_wait_timeout,
            on_wait=lambda pending: logger.warning("waiting for djq migrations: %s", ", ".join(pending)),
            stopped=lambda: self.stopping,
        ):
            logger.info("stopped while waiting for djq migrations; nothing was started")
            if self.pidfile:
                self.pidfile.release()
            return False
        self.register()
        self._last_heartbeat = self._last_round = self._connected_since = time.monotonic()
        self.recover()
        logger.info("djq supervisor started for backend %r (%s mode, pid %d): %s", self.config.alias,
                    self.config.mode, os.getpid(), ", ".join(s.name for s in self.slots) or "no runners")
        self.hook("start")
        return True

    def register(self) -> None:
        """Insert the supervisor's row; after a prune, again under the same id, so its children stay its own."""
        self.process_id = processes.register(
            self.database, backend_alias=self.config.alias, kind="supervisor", name=self.name,
            hostname=self.hostname, pid=os.getpid(), process_id=self.process_id,
            metadata={"mode": self.config.mode, "runners": [s.name for s in self.slots]},
        )

    def live_rows(self) -> set[int]:
        """Process rows of runners this supervisor knows to be alive."""
        return set()

    def may_prune(self) -> bool:
        """Whether heartbeats are worth judging: connected (and not frozen) for a whole alive threshold.

        Right after a start, an outage or a freeze, every heartbeat looks
        old, the live ones included: their processes had no way to send
        one. Pruning waits until each has had a threshold of fresh chances.
        """
        return time.monotonic() - self._connected_since >= self.config.process_alive_threshold

    def recover(self) -> None:
        """Fail work left by processes that died while nobody watched.

        Claims whose process row is gone are failed at once. Stale rows are
        pruned only once ``may_prune()``; this supervisor's own runners are
        never pruned here but by ``prune_hung()``, which stops them first.
        """
        if self.may_prune():
            processes.prune_stale(self.handle, threshold=self.config.process_alive_threshold,
                                  exclude={self.process_id, *self.live_rows()})
            self.prune_hung()
        processes.fail_missing(self.handle)
        self._last_prune = time.monotonic()

    def prune_hung(self) -> None:
        """Stop own runners whose heartbeat is stale and recover their work (where the mode can)."""

    def request_stop(self, immediate: bool = False) -> None:
        self.stopping = True
        self.immediate = self.immediate or immediate

    def housekeeping(self) -> None:
        now = time.monotonic()
        if now - self._last_round > max(2.0, min(FROZEN_AFTER, self.config.process_alive_threshold / 2)):
            if self._last_round:
                logger.warning("supervisor loop stalled for %.1fs; pruning waits %ss for fresh heartbeats",
                               now - self._last_round, self.config.process_alive_threshold)
            self._connected_since = now
        if self._housekeeping_down:
            self._connected_since = now  # the database may be back: this round is the first one connected
        self._last_round = now
        interval = self.config.process_heartbeat_interval
        if interval > 0 and now - self._last_heartbeat >= interval:
            self._last_heartbeat = now
            if not processes.heartbeat(self.database, self.process_id):
                logger.error("supervisor row %s was pruned; registering it again", self.process_id)
                self.register()
        if now - self._last_prune >= min(PRUNE_INTERVAL, self.config.process_alive_threshold):
            # Not only at start: a runner that claimed under a row pruned
            # meanwhile (say, right after an outage) leaves claims with no row.
            self.recover()

    def housekeeping_failed(self, exc: BaseException) -> None:
        if not self._housekeeping_down:
            self._housekeeping_down = True
            logger.warning("supervisor lost the database (%s); retrying", str(exc).strip().splitlines()[0]
                           if str(exc).strip() else type(exc).__name__)
        try:
            connections[self.database].close()
        except Exception:
            pass

    def housekeeping_ok(self) -> None:
        if self._housekeeping_down:
            self._housekeeping_down = False
            logger.warning("supervisor reconnected to the database; pruning waits %ss for fresh heartbeats",
                           self.config.process_alive_threshold)

    def finish(self) -> None:
        self.hook("stop")
        try:
            if self.process_id is not None:
                processes.deregister(self.database, self.process_id)
        except DB_ERRORS as exc:
            logger.warning("could not remove the supervisor row: %s", exc)
        self.hook("exit")
        if self.pidfile:
            self.pidfile.release()
        logger.info("djq supervisor stopped")

    def child_row(self, pid: int) -> int | None:
        return (
            Process.objects.using(self.database)
            .filter(supervisor_id=self.process_id, pid=pid)
            .values_list("pk", flat=True)
            .first()
        )

    def restart_delay(self, slot: Slot) -> float:
        """Back off when a runner keeps dying right after it starts."""
        if time.monotonic() - slot.started_at < 10:
            slot.quick_failures += 1
        else:
            slot.quick_failures = 0
        return min(30.0, 0.2 * 2**slot.quick_failures) if slot.quick_failures else 0.0


def describe_exit(name: str, pid: int, status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        try:
            signame = signal.Signals(-code).name
        except ValueError:
            signame = f"signal {-code}"
        return f"{name} (pid {pid}) was killed by {signame}"
    return f"{name} (pid {pid}) exited with status {code}"
