"""Supervisors: start the runners of one backend, restart the ones that die, recover their work.

``fork`` mode gives every runner its own process (a worker entry with
``processes: N`` gives N); ``async`` mode runs them as threads of one
process. SIGTERM and SIGINT drain within ``shutdown_timeout``; SIGQUIT stops
at once (jobs left running end failed with ``ProcessExitError``).
"""

from __future__ import annotations

import logging
import os
import select
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections

from ..config import BackendConfig
from ..hooks import run_hooks
from ..models import Process
from ..ops import processes
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
        self._housekeeping_down = False

    # -- hooks and errors ------------------------------------------------------

    def report(self, exc: BaseException) -> None:
        errors.report(exc, self.config.on_thread_error)

    def hook(self, moment: str) -> None:
        run_hooks(f"supervisor.{moment}", self, self.report)

    # -- start and stop ----------------------------------------------------------

    def start(self) -> None:
        set_title(f"supervisor [{self.config.alias}] {self.config.mode} mode", name="supervisor")
        if self.pidfile:
            self.pidfile.acquire()
        wait_for_migrations(
            self.database, self.migration_wait_timeout,
            on_wait=lambda pending: logger.warning("waiting for djq migrations: %s", ", ".join(pending)),
        )
        self.process_id = processes.register(
            self.database, backend_alias=self.config.alias, kind="supervisor", name=self.name,
            hostname=self.hostname, pid=os.getpid(),
            metadata={"mode": self.config.mode, "runners": [s.name for s in self.slots]},
        )
        self._last_heartbeat = time.monotonic()
        self.recover()
        logger.info("djq supervisor started for backend %r (%s mode, pid %d): %s", self.config.alias,
                    self.config.mode, os.getpid(), ", ".join(s.name for s in self.slots) or "no runners")
        self.hook("start")

    def live_rows(self) -> set[int]:
        """Process rows of runners this supervisor knows to be alive."""
        return set()

    def recover(self) -> None:
        """Fail work left by processes that died while nobody watched.

        This supervisor's own live runners are never pruned: after a database
        outage longer than the alive threshold their heartbeats look stale,
        but their parent knows better.
        """
        processes.prune_stale(self.database, self.config.alias, threshold=self.config.process_alive_threshold,
                              exclude={self.process_id, *self.live_rows()})
        processes.fail_missing(self.database, self.config.alias)
        self._last_prune = time.monotonic()

    def request_stop(self, immediate: bool = False) -> None:
        self.stopping = True
        self.immediate = self.immediate or immediate

    def housekeeping(self) -> None:
        now = time.monotonic()
        interval = self.config.process_heartbeat_interval
        if interval > 0 and now - self._last_heartbeat >= interval:
            self._last_heartbeat = now
            if not processes.heartbeat(self.database, self.process_id):
                logger.error("supervisor row was pruned; registering again")
                self.process_id = processes.register(
                    self.database, backend_alias=self.config.alias, kind="supervisor", name=self.name,
                    hostname=self.hostname, pid=os.getpid(), metadata={"mode": self.config.mode},
                )
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
            logger.warning("supervisor reconnected to the database")

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


class ForkSupervisor(Supervisor):
    """Every runner in its own OS process."""

    def run(self) -> int:
        self._pipe_r, self._pipe_w = os.pipe()
        os.set_blocking(self._pipe_w, False)
        os.set_blocking(self._pipe_r, False)
        previous = signal.set_wakeup_fd(self._pipe_w)
        handlers = {
            signal.SIGTERM: lambda *_: self.request_stop(),
            signal.SIGINT: lambda *_: self.request_stop(),
            signal.SIGQUIT: lambda *_: self.request_stop(immediate=True),
            signal.SIGCHLD: lambda *_: None,  # only to wake the loop through the pipe
        }
        saved = {sig: signal.signal(sig, h) for sig, h in handlers.items()}
        try:
            self.start()
            try:
                self.loop()
            finally:
                self.stop_children()
                self.finish()
            return 0
        finally:
            for sig, h in saved.items():
                signal.signal(sig, h)
            signal.set_wakeup_fd(previous)
            os.close(self._pipe_r)
            os.close(self._pipe_w)

    def spawn(self, slot: Slot) -> None:
        connections.close_all()  # a child must never share the parent's sockets
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, measured by the e2e tests
            self._child(slot)
        slot.pid = pid
        slot.started_at = time.monotonic()

    def _child(self, slot: Slot) -> None:
        code = 0
        try:
            # Stop signals reach a thread through the wakeup fd. A handler that
            # stopped the runner itself would run between two bytecodes of the
            # main thread, and Event.set() deadlocks if that thread holds the
            # Event's lock at that moment (say, inside wake.clear()).
            signals_r, signals_w = os.pipe()
            os.set_blocking(signals_w, False)
            signal.set_wakeup_fd(signals_w)
            os.close(self._pipe_r)
            os.close(self._pipe_w)
            if self.pidfile:
                self.pidfile.close_inherited()
            runner = slot.build(self.process_id)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
                signal.signal(sig, _ignore)
            # A signal that came before these handlers went to the inherited
            # ones, which only marked this copy of the supervisor as stopping.
            if self.immediate:
                os._exit(1)
            if self.stopping:
                runner.stop()
            threading.Thread(target=_stop_on_signal, args=(runner, signals_r), name="signals", daemon=True).start()
            runner.run()
        except BaseException as exc:
            code = 1
            try:
                errors.report(exc, self.config.on_thread_error)
            except BaseException:
                pass
        finally:
            logging.shutdown()
            os._exit(code)

    def loop(self) -> None:
        for slot in self.slots:
            self.spawn(slot)
        while not self.stopping:
            self.reap()
            if self.stopping:
                break
            now = time.monotonic()
            for slot in self.slots:
                if slot.pid is None and now >= slot.restart_at:
                    logger.info("starting %s again", slot.name)
                    self.spawn(slot)
            try:
                self.housekeeping()
                self.housekeeping_ok()
            except DB_ERRORS as exc:
                self.housekeeping_failed(exc)
            self.wait(1.0)

    def wait(self, timeout: float) -> None:
        try:
            select.select([self._pipe_r], [], [], timeout)
        except InterruptedError:
            pass
        try:
            while os.read(self._pipe_r, 512):
                pass
        except BlockingIOError:
            pass

    def reap(self) -> list[Slot]:
        """Collect exited children: fail what they held, schedule restarts."""
        exited = []
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            slot = next((s for s in self.slots if s.pid == pid), None)
            if slot is None:
                continue
            slot.pid = None
            exited.append(slot)
            reason = describe_exit(slot.name, pid, status)
            self.handle_exit(slot, pid, reason)
        return exited

    def handle_exit(self, slot: Slot, pid: int, reason: str) -> None:
        clean = reason.endswith("exited with status 0")
        if not (self.stopping and clean):
            logger.warning("%s", reason)
        for attempt in range(3):
            try:
                row = self.child_row(pid)
                if row is not None:
                    failed = processes.handle_exited(self.database, row, reason)
                    if failed:
                        logger.warning("failed %d jobs held by %s: %s", len(failed), slot.name,
                                       ", ".join(map(str, failed)))
                break
            except DB_ERRORS as exc:
                connections[self.database].close()
                if attempt == 2:
                    logger.warning("could not recover the jobs of %s yet (%s); pruning will", slot.name, exc)
                time.sleep(0.2 * (attempt + 1))
        if not self.stopping:
            slot.restart_at = time.monotonic() + self.restart_delay(slot)

    def live_rows(self) -> set[int]:
        pids = [s.pid for s in self.slots if s.pid]
        if not pids or self.process_id is None:
            return set()
        return set(Process.objects.using(self.database).filter(supervisor_id=self.process_id, pid__in=pids)
                   .values_list("pk", flat=True))

    def stop_children(self) -> None:
        sig = signal.SIGQUIT if self.immediate else signal.SIGTERM
        for slot in self.slots:
            if slot.pid:
                try:
                    os.kill(slot.pid, sig)
                except ProcessLookupError:
                    pass
        # SIGQUIT children exit at once; the short grace only lets us reap them.
        grace = 2.0 if self.immediate else self.config.shutdown_timeout + 2.0
        deadline = time.monotonic() + grace
        while any(s.pid for s in self.slots) and time.monotonic() < deadline:
            self.reap()
            self.wait(0.05 if self.immediate else 0.1)
        for slot in self.slots:
            if slot.pid:
                logger.warning("%s did not stop in time; killing it", slot.name)
                try:
                    os.kill(slot.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        end = time.monotonic() + 5
        while any(s.pid for s in self.slots) and time.monotonic() < end:
            self.reap()
            self.wait(0.05)


class AsyncSupervisor(Supervisor):
    """Every runner as a thread of this process (embedded servers, small deployments)."""

    def run(self) -> int:
        saved = {}
        if self.standalone and threading.current_thread() is threading.main_thread():
            for sig, immediate in ((signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGQUIT, True)):
                # Only flags: setting _wake here would deadlock if the signal came
                # while this thread held its lock (in _wake.clear()); the loop
                # looks at the flags every second anyway.
                saved[sig] = signal.signal(sig, lambda *_, i=immediate: self.request_stop(i))
        self._wake = threading.Event()
        try:
            self.start()
            try:
                self.loop()
            finally:
                self.stop_runners()
                self.finish()
            return 0
        finally:
            for sig, h in saved.items():
                signal.signal(sig, h)

    def _signal(self, immediate: bool) -> None:
        self.request_stop(immediate)
        self._wake.set()

    def stop(self) -> None:
        """Stop from another thread (embedded mode)."""
        self._signal(False)

    def spawn(self, slot: Slot) -> None:
        runner = slot.build(self.process_id)
        slot.runner = runner
        slot.thread = threading.Thread(target=self._run_runner, args=(runner,), name=slot.name, daemon=True)
        slot.started_at = time.monotonic()
        slot.thread.start()

    def _run_runner(self, runner: Runner) -> None:
        try:
            runner.run()
        except BaseException as exc:
            self.report(exc)
        finally:
            connections.close_all()

    def loop(self) -> None:
        for slot in self.slots:
            self.spawn(slot)
        while not self.stopping:
            now = time.monotonic()
            for slot in self.slots:
                if slot.thread is not None and not slot.thread.is_alive():
                    logger.warning("%s stopped unexpectedly", slot.name)
                    slot.thread = None
                    slot.restart_at = now + self.restart_delay(slot)
                if slot.thread is None and now >= slot.restart_at:
                    self.spawn(slot)
            try:
                self.housekeeping()
                self.housekeeping_ok()
            except DB_ERRORS as exc:
                self.housekeeping_failed(exc)
            self._wake.wait(1.0)
            self._wake.clear()

    def live_rows(self) -> set[int]:
        return {s.runner.process_id for s in self.slots
                if s.thread is not None and s.thread.is_alive() and s.runner is not None
                and s.runner.process_id is not None}

    def stop_runners(self) -> None:
        for slot in self.slots:
            if slot.runner is not None:
                slot.runner.stop()
        deadline = time.monotonic() + (0 if self.immediate else self.config.shutdown_timeout + 1.0)
        for slot in self.slots:
            if slot.thread is not None:
                slot.thread.join(max(0.0, deadline - time.monotonic()))
        if self.immediate or any(s.thread is not None and s.thread.is_alive() for s in self.slots):
            # Threads cannot be killed: fail what they still hold, as a dead process's work.
            for slot in self.slots:
                runner = slot.runner
                if (runner is not None and runner.process_id is not None and slot.thread is not None
                        and slot.thread.is_alive()):
                    processes.handle_exited(self.database, runner.process_id, f"{slot.name} did not stop in time")


def _ignore(*_) -> None:
    """A handler that does nothing, so that the signal is written to the wakeup fd."""


def _stop_on_signal(runner: Runner, wakeup_fd: int) -> None:
    """In a forked runner: SIGTERM and SIGINT drain, SIGQUIT exits at once."""
    while True:
        for number in os.read(wakeup_fd, 64):
            if number == signal.SIGQUIT:
                os._exit(1)
            if number in (signal.SIGTERM, signal.SIGINT):
                runner.stop()


def describe_exit(name: str, pid: int, status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        try:
            signame = signal.Signals(-code).name
        except ValueError:
            signame = f"signal {-code}"
        return f"{name} (pid {pid}) was killed by {signame}"
    return f"{name} (pid {pid}) exited with status {code}"


def build_supervisor(config: BackendConfig, *, only_work: bool = False, only_dispatch: bool = False,
                     skip_recurring: bool = False, migration_wait_timeout: float = 60.0,
                     standalone: bool = True) -> Supervisor:
    slots = plan(config, only_work=only_work, only_dispatch=only_dispatch, skip_recurring=skip_recurring)
    cls = AsyncSupervisor if config.mode == "async" else ForkSupervisor
    return cls(config, slots, migration_wait_timeout=migration_wait_timeout, standalone=standalone)
