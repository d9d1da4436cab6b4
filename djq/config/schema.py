"""The resolved configuration of one djq backend alias, as frozen values.

Every default lives here, on the dataclass fields; the loader only validates
and fills in what a layer set. Objects are immutable and safe to share across
threads.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from djq import selectors
from djq.exceptions import ConfigurationError

__all__ = [
    "DJQ_BACKEND_PATH",
    "BackendConfig",
    "DispatcherConfig",
    "RecurringTaskConfig",
    "RetryPolicy",
    "SchedulerConfig",
    "WorkerConfig",
    "queue_matches",
]

DJQ_BACKEND_PATH = "djq.backend.DjqBackend"
MODES = ("fork", "async")

DAY = 86400
YEAR = 365 * DAY

#: Upper bounds on option values, far past any real deployment but low enough
#: that a typo (an extra zero, or 1e300) is refused instead of forking 100,000
#: processes or overflowing a date. ``djq check`` reports them like any problem.
LIMITS: Mapping[str, float] = {
    "processes": 256,
    "threads": 1000,
    "prefetch_multiplier": 100,
    "batch_size": 100_000,
    "interval": DAY,  # every polling, heartbeat and maintenance interval; shutdown_timeout
    "process_alive_threshold": 7 * DAY,
    "concurrency_duration": YEAR,
    "retention": 100 * YEAR,  # clear_*_after
    "max_attempts": 1000,
    "backoff": YEAR,  # backoff_base and backoff_cap
    "backoff_factor": 1000,
    "max_payload_size": 64 * 1024 * 1024,
    "entries": 64,  # workers and dispatchers entries
    "recurring": 1000,  # static recurring tasks (each schedule is parsed at every load)
}
#: Stored text columns: djq_job.queue_name and the like.
MAX_QUEUE_NAME = 64
MAX_TASK_PATH = 255
MAX_KEY = 255


#: Whether a worker queue selector ("*", "email*" or an exact name) covers a queue.
queue_matches = selectors.matches


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerConfig:
    queues: tuple[str, ...] = ("*",)
    threads: int = 3
    processes: int = 1
    polling_interval: float = 0.1
    prefetch_multiplier: int = 16

    def matches(self, queue_name: str) -> bool:
        return any(queue_matches(selector, queue_name) for selector in self.queues)


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatcherConfig:
    batch_size: int = 500
    polling_interval: float = 1.0
    concurrency_maintenance: bool = True
    concurrency_maintenance_interval: float = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulerConfig:
    dynamic_tasks_enabled: bool = False
    polling_interval: float = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RecurringTaskConfig:
    """A static recurring task; ``args`` and ``kwargs`` are JSON values."""

    key: str
    task_path: str
    schedule: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict, hash=False)
    queue_name: str = "default"
    priority: int = 0
    description: str = ""

    def parse_schedule(self, default_tz=None):
        """The parsed :class:`djq.cron.Schedule` (``default_tz`` as in ``parse_schedule``)."""
        from djq.cron import parse_schedule

        return parse_schedule(self.schedule, default_tz)

    def to_dict(self) -> dict[str, Any]:
        """The entry as it appears under ``OPTIONS["recurring"][key]``."""
        return {
            "task_path": self.task_path,
            "schedule": self.schedule,
            "args": list(self.args),
            "kwargs": dict(self.kwargs),
            "queue_name": self.queue_name,
            "priority": self.priority,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Automatic retries with capped exponential backoff and jitter.

    ``max_attempts`` counts every run, the first included: 1 means no retries.
    ``retry_on`` holds dotted exception class paths (classes are accepted too
    and stored as paths); they are imported on first use, not at construction.
    """

    max_attempts: int = 1
    backoff_base: float = 1.0
    backoff_factor: float = 2.0
    backoff_cap: float = 3600.0
    jitter: float = 0.1
    retry_on: tuple[str, ...] = ("builtins.Exception",)
    _classes: tuple[type[BaseException], ...] | None = field(
        default=None, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        entries = (self.retry_on,) if isinstance(self.retry_on, (str, type)) else self.retry_on
        paths, classes = [], []
        for entry in entries:
            if isinstance(entry, type) and issubclass(entry, BaseException):
                paths.append(f"{entry.__module__}.{entry.__qualname__}")
                classes.append(entry)
            else:
                paths.append(entry)
        object.__setattr__(self, "retry_on", tuple(paths))
        if classes and len(classes) == len(paths):
            object.__setattr__(self, "_classes", tuple(classes))
        problem = retry_policy_problem(self)
        if problem:
            raise ConfigurationError(f"retry {problem}")

    def delay(self, attempt: int, rng: random.Random | Any = random) -> float:
        """Seconds to wait before the retry that follows run number ``attempt`` (from 1).

        ``base * factor ** (attempt - 1)``, capped at ``backoff_cap``, then moved
        by up to ± ``jitter`` of itself; the result never exceeds the cap.
        """
        if attempt < 1:
            raise ValueError(f"attempt counts from 1, got {attempt}")
        try:
            delay = min(self.backoff_cap, self.backoff_base * self.backoff_factor ** (attempt - 1))
        except OverflowError:
            delay = self.backoff_cap
        if self.jitter:
            delay *= 1 + rng.uniform(-self.jitter, self.jitter)
        return max(0.0, min(self.backoff_cap, delay))

    def should_retry(self, exc: BaseException, attempt: int) -> bool:
        """Whether a run that raised ``exc`` gets another go after ``attempt`` runs."""
        return attempt < self.max_attempts and isinstance(exc, self.exception_classes())

    def exception_classes(self) -> tuple[type[BaseException], ...]:
        if self._classes is None:
            from django.utils.module_loading import import_string

            try:
                classes = tuple(import_string(path) for path in self.retry_on)
            except ImportError as exc:
                raise ConfigurationError(f"retry retry_on: {exc}") from exc
            object.__setattr__(self, "_classes", classes)
        return self._classes

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_attempts": self.max_attempts,
            "backoff_base": self.backoff_base,
            "backoff_factor": self.backoff_factor,
            "backoff_cap": self.backoff_cap,
            "jitter": self.jitter,
            "retry_on": list(self.retry_on),
        }


def retry_policy_problem(policy: RetryPolicy) -> str | None:
    """The first range problem of a policy built in code, as "field: reason"."""
    checks = [
        ("max_attempts", _is_int(policy.max_attempts) and policy.max_attempts >= 1,
         "expected a positive integer", LIMITS["max_attempts"]),
        ("backoff_base", _is_number(policy.backoff_base) and policy.backoff_base > 0,
         "expected a positive number", LIMITS["backoff"]),
        ("backoff_factor", _is_number(policy.backoff_factor) and policy.backoff_factor >= 1,
         "expected a number of at least 1", LIMITS["backoff_factor"]),
        ("backoff_cap", _is_number(policy.backoff_cap) and policy.backoff_cap > 0,
         "expected a positive number", LIMITS["backoff"]),
        ("jitter", _is_number(policy.jitter) and 0 <= policy.jitter <= 1,
         "expected a number between 0 and 1", None),
        ("retry_on", bool(policy.retry_on) and all(isinstance(p, str) and "." in p for p in policy.retry_on),
         "expected dotted exception class paths", None),
    ]
    for name, ok, expectation, most in checks:
        value = getattr(policy, name)
        if not ok:
            return f"{name}: {expectation}, got {value!r}"
        if most is not None and value > most:
            return f"{name}: {too_large(most)}, got {value!r}"
    return None


def too_large(most: float) -> str:
    """The reason for a value over one of the LIMITS."""
    return f"expected at most {most:,}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendConfig:
    """Everything djq needs to know about one ``TASKS`` alias."""

    alias: str
    queues: tuple[str, ...] = ()
    """The alias's ``QUEUES`` allow-list; empty means any queue name."""
    mode: Literal["fork", "async"] = "fork"
    workers: tuple[WorkerConfig, ...] = (WorkerConfig(),)
    dispatchers: tuple[DispatcherConfig, ...] = (DispatcherConfig(),)
    scheduler: SchedulerConfig = SchedulerConfig()
    recurring: tuple[RecurringTaskConfig, ...] = ()
    database_alias: str = "default"
    preserve_finished_jobs: bool = True
    clear_finished_jobs_after: float | None = 86400
    clear_failed_jobs_after: float | None = None
    clear_recurring_executions_after: float | None = None
    default_concurrency_duration: float = 180
    use_skip_locked: bool = True
    listen_notify: bool = True
    silence_polling: bool = True
    process_heartbeat_interval: float = 60
    process_alive_threshold: float = 300
    shutdown_timeout: float = 5
    supervisor_pidfile: str | None = None
    on_thread_error: str | None = None
    retry: RetryPolicy | None = None
    max_payload_size: int = 1024 * 1024
    """Bytes of UTF-8 JSON one job's arguments, or one return value, may take."""
    sources: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False, hash=False)
    """Which layer set each option: "default", "settings", "yaml", "env" or "cli"."""

    def queue_allowed(self, queue_name: str) -> bool:
        return not self.queues or queue_name in self.queues

    def recurring_task(self, key: str) -> RecurringTaskConfig | None:
        return next((task for task in self.recurring if task.key == key), None)

    def with_options(self, **changes: Any) -> BackendConfig:
        """A copy with some fields replaced (no validation; for tests and tools)."""
        return replace(self, **changes)

    def to_options(self) -> dict[str, Any]:
        """The options as a JSON-serialisable ``OPTIONS`` mapping that loads back equal."""
        options: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("alias", "queues", "sources"):
                continue
            value = getattr(self, f.name)
            if f.name in ("workers", "dispatchers"):
                value = [_plain(item) for item in value]
            elif f.name == "scheduler":
                value = _plain(value)
            elif f.name == "recurring":
                value = {task.key: task.to_dict() for task in value}
            elif f.name == "retry":
                value = value.to_dict() if value is not None else None
            options[f.name] = value
        return options

    def to_dict(self) -> dict[str, Any]:
        """The effective configuration, JSON-serialisable (``djq config show``)."""
        return {"alias": self.alias, "queues": list(self.queues), **self.to_options()}


def _plain(obj: Any) -> dict[str, Any]:
    return {
        f.name: list(value) if isinstance(value := getattr(obj, f.name), tuple) else value
        for f in fields(obj)
    }
