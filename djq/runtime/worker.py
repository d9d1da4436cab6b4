"""Workers: claim ready jobs in batches, run them on a thread pool, write outcomes back in batches.

The main thread owns the queue connection and does all queue I/O; threads
only run task code. While the threads work, the main thread waits until a
round trip is worth it: the threads are about to run out of claimed jobs,
half the held jobs have finished, or the oldest unwritten outcome is
``FLUSH_DELAY`` old. Then one statement records every attempt that finished
since the last round trip (a group commit) and, in the same statement where
the vendor allows, claims as many jobs as that frees (finished but unwritten
jobs count as free).

How many jobs a worker holds adapts to how fast they finish: enough to keep
every thread busy for two round trips, between ``threads`` (slow jobs: the
rest stays ready for other workers) and ``threads x prefetch_multiplier``
(quick ones: fewer, bigger round trips).

Outcomes are announced (``task_finished``) only after they are committed,
from a separate thread so slow receivers never stall claiming, and only
when something receives them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence

from django.conf import settings
from django.db import connections
from django.tasks.signals import task_finished
from django.utils import timezone

from ..config import BackendConfig, WorkerConfig, queue_matches
from ..db.rows import ClaimedJob
from ..engine import processes
from ..engine.execution import (
    Attempt,
    backend_class,
    execute,
    finished_level,
    unrecorded_attempt,
    unstorable_outcome,
    wanted,
)
from ..engine.finish import is_plain, write_outcomes
from ..engine.task_paths import find_task
from ..exceptions import ProcessExitError, TaskPathUnchecked
from .base import DB_ERRORS, Runner
from .procline import name_thread

logger = logging.getLogger("djq.runtime")

#: With a live LISTEN connection, polling is only a safety net.
LISTENING_POLL_INTERVAL = 1.0

#: Longest a finished attempt waits to be written while its thread pool is still busy.
FLUSH_DELAY = 0.01

#: Weight of the newest sample in the running means of job and round-trip time.
EWMA = 0.2

#: Seconds between the INFO lines that sum up what a busy worker did (per-job lines are DEBUG).
SUMMARY_INTERVAL = 10.0


def reset_task_connections() -> None:
    """After a task: drop connections the task broke, keep healthy ones open.

    Django's ``close_old_connections`` would also close every connection
    after each job when ``CONN_MAX_AGE`` is 0, reconnecting per job.
    """
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and conn.errors_occurred and not conn.is_usable():
            conn.close()


class Worker(Runner):
    kind = "worker"

    def __init__(self, config: BackendConfig, worker: WorkerConfig, *, name: str, supervisor_id: int | None = None):
        super().__init__(config, name=name, supervisor_id=supervisor_id)
        self.worker = worker
        self.selectors: Sequence[str] = list(worker.queues)
        self.max_capacity = max(1, worker.threads * max(1, worker.prefetch_multiplier))
        self.capacity = min(self.max_capacity, worker.threads)  # adapts: see adapt()
        self._job_seconds = 0.0  # running mean of a job's run time
        self._trip_seconds = 0.001  # running mean of a round trip
        self._first_done_at = 0.0  # when the oldest unwritten outcome arrived
        self.dialect = self.handle.dialect
        self.jobs: queue.SimpleQueue[ClaimedJob | None] = queue.SimpleQueue()
        self.inflight: dict[int, ClaimedJob] = {}
        self.running: dict[int, ClaimedJob] = {}
        self._done: list[Attempt] = []
        self._parked: list[ClaimedJob] = []  # taken by a thread while the lease had run out
        self._suspect = False  # the last batch write failed: write the next one outcome by outcome
        self._done_lock = threading.Lock()
        self._announce: queue.SimpleQueue = queue.SimpleQueue()
        self._notified = False
        self._threads: list[threading.Thread] = []
        self._listener = None
        # Without a settings module (standalone mode) the application's code
        # may simply not be here: a job whose package does not import is
        # handed back untouched and this worker stops claiming, rather than
        # failing every job it would claim.
        self.guard_imports = not getattr(settings, "SETTINGS_MODULE", None)
        self.refusing = False
        self._tally = {"finished": 0, "failed": 0, "retried": 0}
        self._tally_since = time.monotonic()

    @property
    def metadata(self) -> dict:
        return {"queues": list(self.selectors), "threads": self.worker.threads,
                "polling_interval": self.worker.polling_interval}

    @property
    def worker_id(self) -> str:
        return f"{self.name}.{self.pid}@{self.hostname}"

    # -- threads ---------------------------------------------------------------

    def _start_threads(self) -> None:
        for i in range(self.worker.threads):
            t = threading.Thread(target=self._thread_main, name=f"{self.name}-t{i}", daemon=True)
            t.start()
            self._threads.append(t)
        announcer = threading.Thread(target=self._announce_main, name=f"{self.name}-signals", daemon=True)
        announcer.start()
        self._announcer = announcer
        if self.config.listen_notify and self.dialect.vendor == "postgresql":
            from .notify import Listener

            self._listener = Listener(self.database, self._on_notify, name=self.name)
            self._listener.start()

    def _thread_main(self) -> None:
        name_thread(self.name)
        while True:
            job = self.jobs.get()
            if job is None:
                return
            if not self.leased():
                # Stopped, cut off or pruned since this job was claimed: it
                # may have been failed and retried elsewhere. The main thread
                # hands it out again once a heartbeat proves it is still ours.
                with self._done_lock:
                    self._parked.append(job)
                self.wake.set()
                continue
            self.running[job.id] = job
            try:
                attempt = execute(job)
            except BaseException as exc:  # djq's own bookkeeping failed, not the task: still an outcome
                attempt = self._unrecorded(job, exc)
            finally:
                self.running.pop(job.id, None)
                try:
                    reset_task_connections()
                except Exception as exc:
                    self.report(exc)
            with self._done_lock:
                if not self._done:
                    self._first_done_at = time.monotonic()
                self._done.append(attempt)
                done = len(self._done)
            # Wake the main thread only when a round trip is due (see _trip_due);
            # otherwise it wakes by itself after FLUSH_DELAY.
            if done >= self.capacity // 2 or self.jobs.qsize() < self.worker.threads or not self.running:
                self.wake.set()

    def _unrecorded(self, job: ClaimedJob, exc: BaseException) -> Attempt:
        try:
            return unrecorded_attempt(job, exc)
        except BaseException:
            return unrecorded_attempt(job, RuntimeError("the attempt could not be described"))

    def _announce_main(self) -> None:
        name_thread(self.name)
        while True:
            attempt = self._announce.get()
            if attempt is None:
                return
            try:
                result = attempt.result
                task_finished.send(backend_class(result.backend), task_result=result)
            except Exception as exc:
                self.report(exc)

    def _on_notify(self, payload: str) -> None:
        if payload:
            alias, _, queue_name = payload.partition(":")
            if alias != self.config.alias or not any(queue_matches(s, queue_name) for s in self.selectors):
                return
        self._notified = True
        self.wake.set()

    # -- the loop ----------------------------------------------------------------

    def poll_interval(self) -> float:
        if self._listener is not None and self._listener.connected.is_set():
            return max(self.worker.polling_interval, LISTENING_POLL_INTERVAL)
        return self.worker.polling_interval

    def main(self) -> None:
        self._start_threads()
        self._more = True  # the last claim filled up: there may be more right away
        self._next_poll = 0.0
        while not self.stopping.is_set():
            try:
                self.heartbeat_if_due(force=not self.leased())
                if self.stopping.is_set():
                    break
                self._unpark()
                now = time.monotonic()
                if self._trip_due(now):
                    limit = self._free() if self._may_claim(now) else 0
                    if limit:
                        self._notified = False
                    started = time.monotonic()
                    claimed = self.cycle(limit)
                    self._trip_seconds += EWMA * (time.monotonic() - started - self._trip_seconds)
                    if limit:
                        self._more = len(claimed) == limit
                        self._next_poll = time.monotonic() + self.poll_interval()
                    self.log_summary()
                self.outage_over()
            except DB_ERRORS as exc:
                if self._suspect and self._database_up():
                    continue  # the database refused a batch, not went away: write it one outcome at a time
                self.outage(exc)
                self._recover_unknown_claims()
                continue
            if self._trip_due(time.monotonic()):
                continue
            self.sleep(self._wait())

    def _unpark(self) -> None:
        with self._done_lock:
            parked, self._parked = self._parked, []
        for job in parked:
            self.jobs.put(job)

    # -- when to make a round trip, and how much to claim ------------------------------

    def _held(self) -> int:
        """Jobs held and not yet finished: finished but unwritten ones count as free."""
        with self._done_lock:
            return len(self.inflight) - len(self._done)

    def _free(self) -> int:
        return max(0, self.capacity - self._held())

    def _may_claim(self, now: float) -> bool:
        if self.refusing:  # this runtime lacks the application's code (see _hand_back_unimportable)
            return False
        return self._more or self._notified or now >= self._next_poll

    def _trip_due(self, now: float) -> bool:
        with self._done_lock:
            done = len(self._done)
            first = self._first_done_at
        threads = self.worker.threads
        waiting = self.jobs.qsize()  # claimed, not yet started
        if done and (done >= self.capacity // 2 or now - first >= FLUSH_DELAY or (waiting == 0 and not self.running)):
            return True
        # Claim when a thread would otherwise go idle soon, and there is room.
        return self._may_claim(now) and waiting < threads and self._free() > 0

    def _wait(self) -> float:
        """Seconds to sleep: until the next heartbeat, poll, or unwritten outcome's deadline."""
        now = time.monotonic()
        wait = self.seconds_to_heartbeat()
        if self._free() > 0:
            wait = min(wait, max(0.0, self._next_poll - now))
        with self._done_lock:
            if self._done:
                wait = min(wait, max(0.0, self._first_done_at + FLUSH_DELAY - now))
        return wait

    def adapt(self, batch: Sequence[Attempt]) -> None:
        """Hold enough jobs to keep every thread busy for two round trips (and flush delays)."""
        for attempt in batch:
            self._job_seconds += EWMA * (attempt.run_seconds - self._job_seconds)
        threads = self.worker.threads
        per_thread = (self._trip_seconds + FLUSH_DELAY) / max(self._job_seconds, 1e-5)
        wanted = threads + int(2 * threads * per_thread) + 1
        self.capacity = max(min(threads, self.max_capacity), min(self.max_capacity, wanted))

    def cycle(self, limit: int) -> list[ClaimedJob]:
        """One round trip (where the vendor allows): record finished attempts and claim up to ``limit``."""
        with self._done_lock:
            batch, self._done = self._done, []
        claimed: list[ClaimedJob] = []
        try:
            if batch and self._suspect:
                batch = self._write_one_by_one(batch)
                self._suspect = False
                if limit:
                    claimed = self.dialect.claim(self.config.alias, self.selectors, limit,
                                                 process_id=self.process_id, worker_id=self.worker_id,
                                                 now=timezone.now())
            elif limit and is_plain(self.handle, [a.outcome for a in batch]):
                changed, claimed = self.dialect.finish_and_claim(
                    self.process_id, [a.outcome for a in batch], self.config.alias, self.selectors, limit,
                    worker_id=self.worker_id, now=timezone.now(),
                )
                self._check_written(changed, batch)
            else:
                if batch:
                    self._write(batch)
                if limit:
                    claimed = self.dialect.claim(self.config.alias, self.selectors, limit,
                                                 process_id=self.process_id, worker_id=self.worker_id,
                                                 now=timezone.now())
        except BaseException:
            with self._done_lock:
                self._done[:0] = batch  # keep them for the next try
            # The next try writes them one at a time: if the database refused
            # one of them (a value it cannot store), the others still go in.
            self._suspect = self._suspect or bool(batch)
            raise
        if batch:
            self.adapt(batch)
        for attempt in batch:
            self._recorded(attempt)
        if self.guard_imports and claimed:
            claimed = self._hand_back_unimportable(claimed)
        for job in claimed:
            self.inflight[job.id] = job
            self.jobs.put(job)
        return claimed

    def _hand_back_unimportable(self, claimed: list[ClaimedJob]) -> list[ClaimedJob]:
        """Release (back to ready, no attempt counted) the jobs whose task's package is not importable here."""
        runnable, missing, first = [], [], None
        for job in claimed:
            try:
                find_task(job.task_path)
            except TaskPathUnchecked as exc:
                missing.append(job.id)
                first = first or exc
                continue
            except Exception:
                pass  # a wrong path inside code that is here: the job fails as usual
            runnable.append(job)
        if not missing:
            return claimed
        self.dialect.release(self.process_id, missing)
        if not self.refusing:
            self.refusing = True
            logger.error(
                "%s stopped claiming: %s, so this runtime does not have the application's code; released %d "
                "job(s) back to ready, untouched (%s). Run workers with the project's settings "
                "(djq --settings mysite.settings start), and this one with --only-dispatch",
                self.name, first, len(missing), ", ".join(map(str, missing[:10])),
            )
        return runnable

    def _recorded(self, attempt: Attempt) -> None:
        """A written attempt: no longer held; counted; announced if anything receives it."""
        self.inflight.pop(attempt.outcome.id, None)
        self._tally["failed" if attempt.failed else "finished" if attempt.terminal else "retried"] += 1
        if attempt.terminal and attempt.has_result and wanted(task_finished, self._sender(), finished_level(attempt)):
            self._announce.put(attempt)

    def _sender(self) -> type:
        return backend_class(self.config.alias)

    def log_summary(self, force: bool = False) -> None:
        """One INFO line for the jobs done since the last one, every SUMMARY_INTERVAL seconds."""
        now = time.monotonic()
        elapsed = now - self._tally_since
        if not force and elapsed < SUMMARY_INTERVAL:
            return
        tally = self._tally
        total = sum(tally.values())
        if total:
            logger.info("%s: %d jobs in %.1fs (%.0f/s): %d finished, %d failed, %d to retry", self.name, total,
                        elapsed, total / max(elapsed, 1e-9), tally["finished"], tally["failed"], tally["retried"])
        self._tally = {"finished": 0, "failed": 0, "retried": 0}
        self._tally_since = now

    def flush(self) -> None:
        """Record every finished attempt, claiming nothing."""
        self.cycle(0)

    def _write(self, batch: list[Attempt]) -> None:
        """The general finish (row deletions, concurrency slots), through the engine's one finish."""
        changed = write_outcomes(self.handle, self.process_id, [a.outcome for a in batch])
        self._check_written(changed, batch)

    def _write_one_by_one(self, batch: list[Attempt]) -> list[Attempt]:
        """Write each outcome on its own; one the database refuses (while it answers) fails its job instead.

        Each written attempt leaves ``batch`` (in place of a refused one, the
        failure written instead is announced); on a real outage it raises
        with the rest still in ``batch``, which ``cycle`` keeps for the next try.
        """
        while batch:
            self._write_refusable(batch[0])  # raises with batch[0:] still to write
            self._recorded(batch.pop(0))
        return batch

    def _write_refusable(self, attempt: Attempt) -> None:
        """One outcome; if the database refuses it, a failure saying why (and, failing that, a bare one)."""
        outcome = attempt.outcome
        for minimal in (None, False, True):
            try:
                self._write([Attempt(outcome=outcome, result=attempt.result, terminal=attempt.terminal)])
                if minimal is not None:
                    attempt.outcome, attempt.result, attempt.terminal = outcome, None, True
                return
            except DB_ERRORS as exc:
                if not self._database_up():
                    raise
                if minimal is None:
                    logger.error("%s: the database refused the outcome of job %s (%s); failing the job",
                                 self.name, outcome.id, str(exc).strip().splitlines()[0][:300] if str(exc).strip()
                                 else type(exc).__name__)
                if minimal is True:
                    break
                outcome = unstorable_outcome(attempt.outcome, exc, minimal=minimal is False)
        # Not even a bare failure could be written while the database answers:
        # leave the job to recovery when this worker exits, and carry on.
        logger.error("%s: job %s could not be recorded at all; it stays claimed until this worker exits",
                     self.name, attempt.outcome.id)

    def _database_up(self) -> bool:
        """After a failed statement: whether a fresh connection answers (a refusal, not an outage)."""
        try:
            connections[self.database].close()
        except Exception:
            pass
        try:
            with connections[self.database].cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except DB_ERRORS:
            return False

    def _check_written(self, changed: int, batch: list[Attempt]) -> None:
        if changed != len(batch):
            logger.warning("%s: %d of %d finished jobs were no longer held by this worker",
                           self.name, len(batch) - changed, len(batch))

    def _recover_unknown_claims(self) -> None:
        """After an outage: a claim may have committed without us seeing its reply."""
        try:
            held = self.dialect.claimed_ids(self.process_id)
            unknown = [i for i in held if i not in self.inflight]
            if unknown:
                released = self.dialect.release(self.process_id, unknown)
                logger.warning("%s released %d jobs claimed during the outage", self.name, released)
        except DB_ERRORS:
            pass  # still down; the next round will try again

    # -- shutdown ----------------------------------------------------------------

    def shutdown(self) -> None:
        """Drain: hand back jobs never started, let running ones finish within shutdown_timeout."""
        unstarted = []
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                unstarted.append(job.id)
        with self._done_lock:
            unstarted += [job.id for job in self._parked]
            self._parked = []
        for _ in self._threads:
            self.jobs.put(None)
        deadline = time.monotonic() + self.config.shutdown_timeout
        self._retry_db(lambda: self._release(unstarted))
        while any(t.is_alive() for t in self._threads) and time.monotonic() < deadline:
            self._retry_db(self.flush)
            self.wake.wait(min(0.1, max(0.0, deadline - time.monotonic())))
            self.wake.clear()
        self._retry_db(self.flush)
        still = list(self.running.values())
        if still and self.process_id is not None:
            logger.warning("%s: %d jobs still running after shutdown_timeout (%ss); failing them",
                           self.name, len(still), self.config.shutdown_timeout)
            self._retry_db(lambda: processes.fail_claimed_jobs(
                self.handle, [self.process_id],
                ProcessExitError(f"{self.name} stopped before the job finished "
                                 f"(shutdown_timeout {self.config.shutdown_timeout}s)"),
            ))
        self.log_summary(force=True)
        if self._listener is not None:
            self._listener.stop()
        self._announce.put(None)
        self._announcer.join(timeout=1.0)

    def _release(self, ids: list[int]) -> None:
        if ids and self.process_id is not None:
            self.dialect.release(self.process_id, ids)
            for i in ids:
                self.inflight.pop(i, None)

    def _retry_db(self, action, attempts: int = 3) -> None:
        for _ in range(attempts):
            try:
                action()
                return
            except DB_ERRORS as exc:
                self.outage(exc)
