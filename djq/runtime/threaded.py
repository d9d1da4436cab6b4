"""``async`` mode: every runner as a thread of one process (embedded servers, small deployments)."""

from __future__ import annotations

import logging
import signal
import threading
import time

from django.db import connections

from ..engine import processes
from .base import DB_ERRORS, Runner
from .supervisor import Slot, Supervisor

logger = logging.getLogger("djq.runtime")


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
                    processes.handle_exited(self.handle, runner.process_id, f"{slot.name} did not stop in time")
