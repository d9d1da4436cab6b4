"""What every runtime process shares: registration, heartbeats, sleeping, and riding out outages."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from django.db import DatabaseError, InterfaceError, connections

from ..config import BackendConfig
from ..engine import processes
from ..engine.handle import Handle
from ..hooks import run_hooks
from . import errors
from .procline import set_title

logger = logging.getLogger("djq.runtime")

#: Errors that mean "the database went away"; the runtime waits and retries them.
DB_ERRORS = (DatabaseError, InterfaceError)


class Runner:
    """A loop that owns one process row and keeps it alive until told to stop."""

    kind = "runner"

    def __init__(self, config: BackendConfig, *, name: str, supervisor_id: int | None = None) -> None:
        self.config = config
        self.database = config.database_alias
        self.handle = Handle(config.alias, config)
        self.name = name
        self.supervisor_id = supervisor_id
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        self.process_id: int | None = None
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self._last_heartbeat = 0.0
        # Monotonic time until which this process may start work: nobody can
        # have pruned it before then (see ``lease_seconds``).
        self._lease_until = 0.0
        self._outage_since: float | None = None
        self._backoff = 0.2

    # -- lifecycle -------------------------------------------------------------

    @property
    def metadata(self) -> dict[str, Any]:
        return {}

    @property
    def title(self) -> str:
        return f"{self.name} [{self.config.alias}]"

    def run(self) -> None:
        """Register, loop until stopped, clean up. Blocks."""
        self.pid = os.getpid()
        set_title(self.title, name=self.name)
        if not self._register():
            return
        self.hook("start")
        try:
            self.main()
        finally:
            try:
                self.shutdown()
            finally:
                self.hook("stop")
                self._deregister()
                self.hook("exit")

    def stop(self) -> None:
        """Ask the loop to finish (from a signal handler or another thread)."""
        self.stopping.set()
        self.wake.set()

    def main(self) -> None:
        raise NotImplementedError

    def shutdown(self) -> None:
        """Work to do after the loop ends and before the process row goes away."""

    def hook(self, moment: str) -> None:
        run_hooks(f"{self.kind}.{moment}", self, self.report)

    def report(self, exc: BaseException) -> None:
        errors.report(exc, self.config.on_thread_error)

    # -- waiting ---------------------------------------------------------------

    def sleep(self, timeout: float) -> None:
        """Wait until woken, stopped, or ``timeout`` seconds pass."""
        if timeout > 0:
            self.wake.wait(timeout)
        self.wake.clear()

    # -- the process row -------------------------------------------------------

    def _register(self) -> bool:
        while not self.stopping.is_set():
            try:
                sent = time.monotonic()
                self.process_id = processes.register(
                    self.database,
                    backend_alias=self.config.alias,
                    kind=self.kind,
                    name=self.name,
                    hostname=self.hostname,
                    pid=self.pid,
                    supervisor_id=self.supervisor_id,
                    metadata=self.metadata,
                )
                self._last_heartbeat = sent
                self._lease_until = sent + self.lease_seconds
                self.outage_over()
                return True
            except DB_ERRORS as exc:
                self.outage(exc)
        return False

    def _deregister(self) -> None:
        if self.process_id is None:
            return
        try:
            processes.deregister(self.database, self.process_id)
        except DB_ERRORS as exc:
            logger.warning("%s could not remove its process row: %s", self.name, exc)

    # -- heartbeats and the lease ------------------------------------------------
    #
    # A supervisor prunes a process whose heartbeat is older than
    # process_alive_threshold, and only once it has itself been connected for
    # that long (no pruning on heartbeats older than an outage). So for
    # ``lease_seconds`` after a heartbeat was sent nobody can have pruned this
    # process: until then every job it claimed is still its own. Past the
    # lease (a stopped process, a long outage, a failed heartbeat) it starts no
    # more work until a heartbeat succeeds again; a heartbeat that finds the
    # row gone stops the process.

    @property
    def lease_seconds(self) -> float:
        if self.config.process_heartbeat_interval <= 0:
            return float("inf")
        return self.config.process_alive_threshold * 2 / 3

    def heartbeat_every(self) -> float:
        """Seconds between heartbeats: the configured interval, and often enough to keep the lease."""
        return min(self.config.process_heartbeat_interval, self.lease_seconds / 2)

    def leased(self) -> bool:
        """Whether this process may still start the work it holds (see above)."""
        return self.process_id is not None and time.monotonic() < self._lease_until

    def heartbeat_if_due(self, force: bool = False) -> None:
        interval = self.config.process_heartbeat_interval
        if interval <= 0 or self.process_id is None:
            return
        if not force and time.monotonic() - self._last_heartbeat < self.heartbeat_every():
            return
        sent = self._last_heartbeat = time.monotonic()
        try:
            alive = processes.heartbeat(self.database, self.process_id)
        except BaseException:
            self._lease_until = 0.0  # a failed heartbeat: hand out nothing until one succeeds
            raise
        if not alive:
            # Our row is gone: someone pruned us as dead and failed our jobs.
            logger.error("%s was pruned (no heartbeat seen in time); stopping", self.name)
            self._lease_until = 0.0
            self.process_id = None
            self.stop()
            return
        self._lease_until = sent + self.lease_seconds

    def seconds_to_heartbeat(self) -> float:
        interval = self.config.process_heartbeat_interval
        if interval <= 0:
            return 3600.0
        return max(0.0, self._last_heartbeat + self.heartbeat_every() - time.monotonic())

    # -- database outages ------------------------------------------------------

    def outage(self, exc: BaseException) -> None:
        """The database failed: log once, drop the connection, back off, try again later."""
        now = time.monotonic()
        if self._outage_since is None:
            self._outage_since = now
            logger.warning("%s lost the database (%s); retrying", self.name, str(exc).strip().splitlines()[0]
                           if str(exc).strip() else type(exc).__name__)
        try:
            connections[self.database].close()
        except Exception:
            pass
        self.stopping.wait(self._backoff)
        # Capped well inside a heartbeat interval: once the database is back,
        # every process heartbeats again long before anyone may prune it.
        cap = 5.0 if self.config.process_heartbeat_interval <= 0 else min(5.0, max(0.2, self.heartbeat_every() / 2))
        self._backoff = min(self._backoff * 2, cap)

    def outage_over(self) -> None:
        if self._outage_since is not None:
            logger.warning("%s reconnected to the database after %.1fs", self.name,
                           time.monotonic() - self._outage_since)
            self._outage_since = None
        self._backoff = 0.2
