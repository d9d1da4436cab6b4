"""Running one claimed job, and deciding what its attempt leaves behind."""

from __future__ import annotations

import json
import logging
import time
import traceback
from datetime import datetime, timedelta
from typing import Any

from django.dispatch import Signal
from django.tasks import signals as django_signals
from django.tasks import task_backends
from django.tasks.base import Task, TaskContext, TaskResult
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils import timezone

from ..db.rows import ERROR_MESSAGE_CHARS, ClaimedJob, Outcome
from ..exceptions import DjqError, ResultSerializationError
from ..payload import encode_result
from ..safe_text import error_text, for_log, for_storage
from ..states import CLAIMED, FAILED, FINISHED, SCHEDULED
from .building import payload_rules
from .task_results import build_result, load_task, task_for_job

logger = logging.getLogger("djq.job")


_UNSET: Any = object()


class Attempt:
    """One executed attempt: what to write back, and what to announce after the write.

    Its ``TaskResult`` is built only when something asks for it (a
    ``task_finished`` receiver, a test), and at most once.
    """

    __slots__ = ("_attempts", "_job", "_result", "_return_json", "_task", "outcome", "run_seconds", "terminal")

    def __init__(self, outcome: Outcome, terminal: bool, *, result: Any = _UNSET, job: ClaimedJob | None = None,
                 task: Task | None = None, attempts: list | None = None, return_json: str | None = None,
                 run_seconds: float = 0.0) -> None:
        self.outcome = outcome
        self.terminal = terminal
        self.run_seconds = run_seconds
        self._job = job
        self._task = task  # None when the task could not even be loaded: there is no result
        self._attempts = attempts
        self._return_json = return_json
        self._result: TaskResult | None = None
        if result is not _UNSET:  # a result given as is (None: there is none)
            self.result = result

    @property
    def result(self) -> TaskResult | None:
        if self._result is None and self._task is not None:
            job, o = self._job, self.outcome
            # The attempt's own task (already a clone when its start was announced).
            task = task_for_job(job.task_path, priority=job.priority, queue_name=job.queue_name,
                                backend=job.backend_alias, run_after=job.run_after)
            self._result = build_result(
                task=task, id=job.id, state=o.state, payload=job.payload, backend=job.backend_alias,
                enqueued_at=job.enqueued_at, started_at=o.started_at, finished_at=o.finished_at,
                attempts=self._attempts,
                return_value=json.loads(self._return_json) if self._return_json is not None else None,
            )
        return self._result

    @result.setter
    def result(self, value: TaskResult | None) -> None:
        self._result = value
        if value is None:
            self._task = None

    @property
    def has_result(self) -> bool:
        """Whether there is a result to announce (there is none when the task could not be loaded)."""
        return self._result is not None or self._task is not None

    @property
    def failed(self) -> bool:
        return self.outcome.state == FAILED


# Django connects a logging receiver to each task signal; sending a signal
# that only those would receive, while their logger drops the line, is work
# without effect (a TaskResult built and thrown away). djq then skips it.
_DJANGO_RECEIVERS = {
    task_started: django_signals.log_task_started,
    task_finished: django_signals.log_task_finished,
    task_enqueued: django_signals.log_task_enqueued,
}
_django_log = logging.getLogger("django.tasks")


def wanted(signal: Signal, sender: type, level: int = logging.INFO) -> bool:
    """Whether sending ``signal`` from ``sender`` would do anything.

    True when a receiver other than Django's own logging receiver is
    connected, or when Django's receiver is connected and its logger writes
    lines at ``level`` (the level it logs this event at).
    """
    sync, async_ = signal._live_receivers(sender)
    if async_:
        return True
    own = _DJANGO_RECEIVERS.get(signal)
    return any(receiver is not own or _django_log.isEnabledFor(level) for receiver in sync)


def finished_level(attempt: Attempt) -> int:
    """The level Django's own ``task_finished`` receiver logs this attempt at."""
    return logging.ERROR if attempt.failed else logging.INFO


def retry_policy(task_path: str, backend_alias: str):
    """The retry policy of a task: its own, else the backend's default, else none."""
    try:
        task = load_task(task_path)
    except DjqError:
        task = None
    policy = getattr(task, "retry", None) if task is not None else None
    if policy is None and task is not None:
        policy = getattr(task.func, "__djq_retry__", None)
    if policy is None:
        from ..config import get_config

        policy = get_config(backend_alias).retry
    if policy is not None and not hasattr(policy, "should_retry"):
        from ..config import RetryPolicy

        policy = RetryPolicy(**policy)
    return policy


def _next_state(
    task_path: str, backend_alias: str, exc: BaseException | None, attempts: int, now: datetime
) -> tuple[str, datetime | None, datetime | None]:
    """(state, finished_at, retry due time) after an attempt."""
    if exc is None:
        return FINISHED, now, None
    policy = retry_policy(task_path, backend_alias)
    if policy is not None and policy.should_retry(exc, attempts):
        return SCHEDULED, None, now + timedelta(seconds=policy.delay(attempts))
    return FAILED, now, None


def _attempt_record(worker_id: str, started: datetime, finished: datetime, error: dict | None) -> dict:
    return {
        "worker_id": worker_id,
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "error": error,
    }


def backend_class(alias: str) -> type:
    """The sender of a backend's task signals."""
    return type(task_backends[alias])


def execute(job: ClaimedJob) -> Attempt:
    """Run the task of a claimed job in this thread and describe the outcome."""
    started = timezone.now()
    clock = time.perf_counter()
    task: Task | None = None
    return_json: str | None = None
    error: BaseException | None = None
    try:
        task = load_task(job.task_path)
        sender = backend_class(job.backend_alias)
        announce = wanted(task_started, sender)
        if task.takes_context or announce:
            # The one TaskResult of the attempt's start, only when someone reads it.
            task = task_for_job(
                job.task_path,
                priority=job.priority,
                queue_name=job.queue_name,
                backend=job.backend_alias,
                run_after=job.run_after,
            )
            result = build_result(
                task=task, id=job.id, state=CLAIMED, payload=job.payload, backend=job.backend_alias,
                enqueued_at=job.enqueued_at, started_at=started, finished_at=None, attempts=job.attempts,
                worker_id=job.worker_id,
            )
        logger.debug("job %s %s started (queue %s, attempt %d)", job.id, job.task_path, job.queue_name,
                     len(job.attempts) + 1)
        if announce:
            task_started.send(sender, task_result=result)
        payload = job.payload
        args, kwargs = payload.get("args", []), payload.get("kwargs", {})
        if task.takes_context:
            value = task.call(TaskContext(task_result=result), *args, **kwargs)
        else:
            value = task.call(*args, **kwargs)
        try:
            return_json = encode_result(value, **payload_rules(task_backends[job.backend_alias]))
        except ValueError as exc:
            raise ResultSerializationError(f"the task returned a value that cannot be stored: {exc}") from None
    except BaseException as exc:
        error = exc
    finished = timezone.now()
    elapsed_ms = (time.perf_counter() - clock) * 1000
    error_record = format_error(error) if error else None
    record = _attempt_record(job.worker_id, started, finished, error_record)
    attempts = [*job.attempts, record]
    state, finished_at, retry_at = _next_state(job.task_path, job.backend_alias, error, len(attempts), finished)
    if error is None:
        logger.debug("job %s %s finished in %.0f ms", job.id, job.task_path, elapsed_ms)
    elif state == SCHEDULED:
        logger.warning("job %s %s failed (%s: %s); retry %d at %s", job.id, job.task_path,
                       type(error).__name__, for_log(error), len(attempts) + 1, retry_at.isoformat())
    else:
        logger.error("job %s %s failed after %.0f ms: %s: %s", job.id, job.task_path, elapsed_ms,
                     type(error).__name__, for_log(error))
    outcome = Outcome(
        id=job.id,
        state=state,
        finished_at=finished_at,
        scheduled_at=retry_at,
        attempts=attempts_json(attempts),
        return_value=return_json,
        concurrency_key=job.concurrency_key,
        started_at=started,
        **_error_columns(error_record),
        backend_alias=job.backend_alias, queue_name=job.queue_name, task_path=job.task_path, ended_at=finished,
        run_seconds=(finished - started).total_seconds(),
        pickup_seconds=max(0.0, (started - job.scheduled_at).total_seconds()),
    )
    return Attempt(outcome, state != SCHEDULED, job=job, task=task, attempts=attempts, return_json=return_json,
                   run_seconds=elapsed_ms / 1000)


def recovered_outcome(job: dict[str, Any], error: DjqError, now: datetime) -> Outcome:
    """The outcome of an attempt whose process died: a failure, retried if the policy allows."""
    started = job["started_at"] or now
    error_record = format_error(error)
    attempts = [*job["attempts"], _attempt_record(job["worker_id"] or "", started, now, error_record)]
    state, finished_at, retry_at = _next_state(job["task_path"], job["backend_alias"], error, len(attempts), now)
    return Outcome(
        id=job["id"],
        state=state,
        finished_at=finished_at,
        scheduled_at=retry_at,
        attempts=attempts_json(attempts),
        return_value=None,
        concurrency_key=job.get("concurrency_key"),
        **_error_columns(error_record),
        backend_alias=job["backend_alias"], queue_name=job.get("queue_name", ""), task_path=job["task_path"],
        ended_at=now, run_seconds=max(0.0, (now - started).total_seconds()),
    )


def _error_columns(error: dict | None) -> dict[str, str | None]:
    """The error columns an outcome writes (``None`` keeps the row's earlier error)."""
    if error is None:
        return {"error_class": None, "error_message": None}
    return {"error_class": error["exception_class_path"][:255],
            "error_message": error["message"][:ERROR_MESSAGE_CHARS]}


#: Characters of JSON one job's attempt history may take; past it, older attempts keep a short error.
ATTEMPTS_BUDGET = 4 * 1024 * 1024


def attempts_json(attempts: list[dict]) -> str:
    """The attempt history as stored: under ATTEMPTS_BUDGET, whatever the retries raised."""
    text = json.dumps(attempts, separators=(",", ":"))
    if len(text) <= ATTEMPTS_BUDGET:
        return text
    trimmed = [_short_error(a) for a in attempts[:-1]]
    return json.dumps([*trimmed, attempts[-1]], separators=(",", ":"))


def _short_error(attempt: dict) -> dict:
    error = attempt.get("error")
    if not error:
        return attempt
    cut = {"message": str(error.get("message", ""))[:500], "traceback": "[cut to keep the history small]"}
    return {**attempt, "error": {**error, **cut}}


def format_error(exc: BaseException) -> dict:
    """An exception as an attempt stores it: NUL and lone surrogates escaped, message and traceback capped."""
    try:
        trace = "".join(traceback.format_exception(exc))
    except Exception:  # an exception whose __str__ raises, a broken traceback
        trace = f"{type(exc).__module__}.{type(exc).__qualname__}: {error_text(exc)}"
    return {
        "exception_class_path": for_storage(f"{type(exc).__module__}.{type(exc).__qualname__}", 255),
        "message": for_storage(error_text(exc)),
        "traceback": for_storage(trace, keep_end=True),
    }


# -- when recording itself fails ---------------------------------------------------
# Whatever goes wrong after the task's own code (a retry policy that overflows,
# an exception whose text cannot be formatted, a value the database refuses),
# the attempt still ends in an outcome that can be written, so a job never
# stays claimed and a worker thread never dies.

#: Characters of an error message kept in a fallback record.
_FALLBACK_TEXT = 2000


def _plain_text(value: object) -> str:
    """Text that every vendor stores: no NUL, no lone surrogate, bounded."""
    try:
        text = str(value)
    except Exception:
        text = f"<unprintable {type(value).__name__}>"
    text = text[:_FALLBACK_TEXT].replace("\x00", "\\x00")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _fallback_error(exception_class_path: str, message: str) -> dict:
    return {"exception_class_path": exception_class_path, "message": message, "traceback": message}


def unrecorded_attempt(job: ClaimedJob, exc: BaseException, started: datetime | None = None) -> Attempt:
    """A failed attempt for a job whose outcome could not be worked out (``exc`` came from djq, not the task)."""
    now = timezone.now()
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    message = _plain_text(f"djq could not record this attempt: {type(exc).__name__}: {_plain_text(exc)}")
    try:
        previous = list(job.attempts)
    except Exception:
        previous = []
    record = _attempt_record(job.worker_id or "", started or now, now, _fallback_error(kind, message))
    logger.error("job %s %s failed: %s", job.id, job.task_path, message)
    outcome = Outcome(id=job.id, state=FAILED, finished_at=now, scheduled_at=None,
                      attempts=json.dumps([*previous, record], separators=(",", ":")), return_value=None,
                      concurrency_key=job.concurrency_key, started_at=started)
    return Attempt(outcome=outcome, result=None, terminal=True)


def unstorable_outcome(outcome: Outcome, exc: BaseException, *, minimal: bool = False) -> Outcome:
    """The outcome to write instead of one the database refused: the attempt failed, saying why.

    ``minimal`` drops the earlier attempts too, for when even those cannot be written again.
    """
    now = timezone.now()
    message = _plain_text(f"djq could not store the outcome of this attempt: {type(exc).__name__}: "
                          f"{_plain_text(exc).strip().splitlines()[0] if str(exc).strip() else ''}")
    attempts: list = []
    record = {"worker_id": "", "started_at": (outcome.started_at or now).isoformat(), "finished_at": now.isoformat()}
    if not minimal:
        try:
            attempts = json.loads(outcome.attempts)
            last = attempts.pop() if attempts else {}
            record.update({k: _plain_text(last[k]) for k in ("worker_id", "started_at", "finished_at") if k in last})
        except Exception:
            attempts = []
    record["error"] = _fallback_error("djq.exceptions.ResultSerializationError", message)
    return Outcome(id=outcome.id, state=FAILED, finished_at=now, scheduled_at=None,
                   attempts=json.dumps([*attempts, record], separators=(",", ":")), return_value=None,
                   concurrency_key=outcome.concurrency_key, started_at=outcome.started_at)


def recovered_outcome_or_failure(job: dict[str, Any], error: DjqError, now: datetime) -> Outcome:
    """``recovered_outcome``, or a plain failure when the retry policy itself fails (recovery never stops)."""
    try:
        return recovered_outcome(job, error, now)
    except Exception as exc:
        logger.error("job %s: its retry policy failed (%s: %s); failing it", job["id"], type(exc).__name__,
                     _plain_text(exc))
        message = _plain_text(f"{error} (and its retry policy failed: {type(exc).__name__}: {_plain_text(exc)})")
        kind = f"{type(error).__module__}.{type(error).__qualname__}"
        record = _attempt_record(job.get("worker_id") or "", job.get("started_at") or now, now,
                                 _fallback_error(kind, message))
        return Outcome(id=job["id"], state=FAILED, finished_at=now, scheduled_at=None,
                       attempts=json.dumps([*(job.get("attempts") or []), record], separators=(",", ":")),
                       return_value=None, concurrency_key=job.get("concurrency_key"))
