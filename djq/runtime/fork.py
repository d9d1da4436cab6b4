"""``fork`` mode: every runner in its own OS process, reaped and restarted by the supervisor."""

from __future__ import annotations

import ctypes
import logging
import os
import select
import signal
import sys
import threading
import time
from datetime import timedelta

from django.db import connections
from django.utils import timezone

from ..engine import processes
from ..exceptions import ProcessPrunedError
from ..models import Process
from . import errors
from .base import DB_ERRORS, Runner
from .supervisor import Slot, Supervisor, describe_exit

logger = logging.getLogger("djq.runtime")


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
            if not self.start():
                return 0
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
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, measured by the e2e tests
            self._child(slot, parent)
        slot.pid = pid
        slot.started_at = time.monotonic()

    def _child(self, slot: Slot, parent: int) -> None:
        code = 0
        try:
            # A SIGKILLed supervisor cannot stop its children: the kernel
            # sends them SIGTERM (a drain) instead, and the signal thread
            # below also notices a new parent, where there is no such signal.
            _die_with_parent()
            if os.getppid() != parent:
                os._exit(0)
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
            threading.Thread(target=_stop_on_signal, args=(runner, signals_r, parent), name="signals",
                             daemon=True).start()
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
        pruned = slot.extra.pop("pruned", None)
        if not (self.stopping and clean):
            logger.warning("%s", reason)
        for attempt in range(3):
            try:
                row = self.child_row(pid)
                if row is not None:
                    if pruned:
                        failed = processes.fail_claimed_jobs(self.handle, [row], ProcessPrunedError(pruned))
                        processes.deregister(self.database, row)
                    else:
                        failed = processes.handle_exited(self.handle, row, reason)
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

    def prune_hung(self) -> None:
        """A child whose heartbeat is stale (stopped, wedged) is killed; ``reap`` then recovers its jobs."""
        by_pid = {s.pid: s for s in self.slots if s.pid and "pruned" not in s.extra}
        if not by_pid or self.process_id is None:
            return
        cutoff = timezone.now() - timedelta(seconds=self.config.process_alive_threshold)
        hung = (Process.objects.using(self.database)
                .filter(supervisor_id=self.process_id, pid__in=list(by_pid), last_heartbeat_at__lt=cutoff)
                .values_list("pid", "last_heartbeat_at"))
        for pid, seen in hung:
            slot = by_pid[pid]
            age = (timezone.now() - seen).total_seconds()
            logger.warning("pruning %s (pid %d): no heartbeat for %.0fs; killing it", slot.name, pid, age)
            slot.extra["pruned"] = f"process {slot.name} sent no heartbeat for {age:.0f}s and was pruned"
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def live_rows(self) -> set[int]:
        pids = [s.pid for s in self.slots if s.pid]
        if not pids or self.process_id is None:
            return set()
        return set(Process.objects.using(self.database).filter(supervisor_id=self.process_id, pid__in=pids)
                   .values_list("pk", flat=True))

    def _signal_children(self, sig: int) -> None:
        for slot in self.slots:
            if slot.pid:
                try:
                    os.kill(slot.pid, sig)
                except ProcessLookupError:
                    pass

    def stop_children(self) -> None:
        quitting = self.immediate
        if not quitting:
            logger.info("draining: running jobs get up to %ss (shutdown_timeout); SIGQUIT stops at once",
                        f"{self.config.shutdown_timeout:g}")
        self._signal_children(signal.SIGQUIT if quitting else signal.SIGTERM)
        # SIGQUIT children exit at once; the short grace only lets us reap them.
        deadline = time.monotonic() + (2.0 if quitting else self.config.shutdown_timeout + 2.0)
        while any(s.pid for s in self.slots) and time.monotonic() < deadline:
            if self.immediate and not quitting:
                # SIGQUIT after SIGTERM or SIGINT: stop now, whatever came first.
                quitting = True
                self._signal_children(signal.SIGQUIT)
                deadline = min(deadline, time.monotonic() + 2.0)
            self.reap()
            self.wait(0.05 if quitting else 0.1)
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


def _ignore(*_) -> None:
    """A handler that does nothing, so that the signal is written to the wakeup fd."""


#: How often a forked runner checks that its supervisor is still its parent.
PARENT_CHECK_INTERVAL = 1.0


def _die_with_parent() -> None:
    """Linux: have the kernel send SIGTERM to this process when its parent dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # the parent check in _stop_on_signal still applies


def _stop_on_signal(runner: Runner, wakeup_fd: int, parent: int) -> None:
    """In a forked runner: SIGTERM and SIGINT drain, SIGQUIT exits at once; a dead parent drains too."""
    orphaned = False
    while True:
        ready, _, _ = select.select([wakeup_fd], [], [], PARENT_CHECK_INTERVAL)
        if not orphaned and os.getppid() != parent:
            orphaned = True
            logger.warning("%s: its supervisor (pid %d) is gone; draining", runner.name, parent)
            runner.stop()
        if not ready:
            continue
        for number in os.read(wakeup_fd, 64):
            if number == signal.SIGQUIT:
                os._exit(1)
            if number in (signal.SIGTERM, signal.SIGINT):
                runner.stop()
