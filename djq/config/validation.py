"""Check merged option values and turn them into schema objects.

Every checker takes ``(value, path, report)`` and returns the normalised value
or ``INVALID`` after reporting the problem; nothing raises, so one pass finds
every problem. ``path`` is a tuple of keys and indexes inside the options.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC
from typing import Any

from djq.config.schema import (
    LIMITS,
    MAX_KEY,
    MAX_QUEUE_NAME,
    MAX_TASK_PATH,
    MODES,
    BackendConfig,
    DispatcherConfig,
    RecurringTaskConfig,
    RetryPolicy,
    SchedulerConfig,
    WorkerConfig,
    _is_int,
    _is_number,
    too_large,
)
from djq.exceptions import ConfigurationError

INVALID: Any = object()
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class Source:
    """Where an option came from, and how to name a path inside it."""

    layer: str
    label: str
    prefix: tuple = ()
    bare: bool = False
    """The label names the option itself (an environment variable)."""

    def where(self, path: tuple) -> str:
        full = self.prefix + (path[1:] if self.bare else path)
        return f"{self.label} {format_path(full)}" if full else self.label


def format_path(path: tuple) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


def hint(word: object, choices) -> str:
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(slots=True)
class Report:
    source: Source
    problems: list[str]
    queues: tuple[str, ...] = ()

    def error(self, path: tuple, message: str) -> Any:
        self.problems.append(f"{self.source.where(path)}: {message}")
        return INVALID


Checker = Callable[[Any, tuple, Report], Any]


def _leaf(
    test: Callable[[Any], bool], expected: str, *, none: bool = False, most: float | None = None
) -> Checker:
    def check(value: Any, path: tuple, report: Report) -> Any:
        if none and value is None:
            return value
        if value is None or not test(value):
            return report.error(
                path, f"expected {expected}{' or None' if none else ''}, got {show(value)}"
            )
        if most is not None and value > most:
            return report.error(path, f"{too_large(most)}, got {show(value)}")
        return value

    return check


def positive_int(most: int) -> Checker:
    return _leaf(lambda v: _is_int(v) and v > 0, "a positive integer", most=most)


def positive_number(most: float) -> Checker:
    return _leaf(lambda v: _is_number(v) and v > 0, "a positive number", most=most)


def optional_positive(most: float) -> Checker:
    return _leaf(lambda v: _is_number(v) and v > 0, "a positive number", none=True, most=most)


non_negative = _leaf(lambda v: _is_number(v) and v >= 0, "a non-negative number", most=LIMITS["interval"])
interval = positive_number(LIMITS["interval"])
boolean = _leaf(lambda v: isinstance(v, bool), "true or false")
text = _leaf(lambda v: isinstance(v, str), "a string")
name = _leaf(lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string")
optional_name = _leaf(
    lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string", none=True
)
priority = _leaf(lambda v: _is_int(v) and -100 <= v <= 100, "an integer between -100 and 100")
_dotted_task = _leaf(lambda v: isinstance(v, str) and bool(_DOTTED.match(v)), "a dotted path to a task")


def task_path(value: Any, path: tuple, report: Report) -> Any:
    if _dotted_task(value, path, report) is INVALID:
        return INVALID
    if len(value) > MAX_TASK_PATH:
        return report.error(path, f"a task path is at most {MAX_TASK_PATH} characters, got {len(value)}")
    return value


def mode(value: Any, path: tuple, report: Report) -> Any:
    if value in MODES:
        return value
    return report.error(path, f"expected 'fork' or 'async', got {show(value)}{hint(value, MODES)}")


def database_alias(value: Any, path: tuple, report: Report) -> Any:
    if name(value, path, report) is INVALID:
        return INVALID
    from django.conf import settings

    if value in settings.DATABASES:
        return value
    known = ", ".join(repr(alias) for alias in settings.DATABASES) or "none"
    return report.error(
        path,
        f"unknown database {value!r}{hint(value, settings.DATABASES)};"
        f" settings.DATABASES has {known}",
    )


def dotted_callable(value: Any, path: tuple, report: Report) -> Any:
    if value is None:
        return None
    imported = _import(value, path, report, "a dotted path to a callable")
    if imported is INVALID:
        return INVALID
    if not callable(imported):
        return report.error(path, f"{value!r} is not callable")
    return value


def _import(value: Any, path: tuple, report: Report, expected: str) -> Any:
    if not isinstance(value, str) or not _DOTTED.match(value):
        return report.error(path, f"expected {expected}, got {show(value)}")
    from django.utils.module_loading import import_string

    try:
        return import_string(value)
    except Exception as exc:  # a broken user module can raise anything
        return report.error(path, f"cannot import {value!r} ({exc})")


def queue_selectors(value: Any, path: tuple, report: Report) -> Any:
    if isinstance(value, str):
        items, paths = value.split(","), [path] * len(value.split(","))
    elif isinstance(value, (list, tuple)) and value:
        items, paths = list(value), [(*path, i) for i in range(len(value))]
    else:
        return report.error(path, f"expected a queue selector or a list of them, got {show(value)}")
    selectors = []
    for item, item_path in zip(items, paths, strict=True):
        if not isinstance(item, str):
            return report.error(item_path, f"expected a queue name, got {show(item)}")
        selector = item.strip()
        if not selector:
            return report.error(item_path, f"empty queue name in {show(value)}")
        if "*" in selector[:-1]:
            return report.error(
                item_path, f"'*' is only allowed at the end of a selector, got {selector!r}"
            )
        selectors.append(selector)
    return tuple(selectors)


def json_value(value: Any, path: tuple, report: Report) -> Any:
    """Accept only what survives a JSON round trip unchanged (tuples become lists)."""
    if value is None or isinstance(value, (str, bool)) or _is_int(value):
        return value
    if isinstance(value, float):
        return (
            value if math.isfinite(value) else report.error(path, "NaN and infinity are not JSON")
        )
    if isinstance(value, (list, tuple)):
        items = [json_value(item, (*path, i), report) for i, item in enumerate(value)]
        return INVALID if any(item is INVALID for item in items) else items
    if isinstance(value, Mapping):
        bad = next((k for k in value if not isinstance(k, str)), None)
        if bad is not None:
            return report.error(path, f"JSON object keys must be strings, got {show(bad)}")
        items = {k: json_value(v, (*path, k), report) for k, v in value.items()}
        return INVALID if INVALID in items.values() else items
    return report.error(path, f"expected a JSON value, got {type(value).__name__} {show(value)}")


def json_args(value: Any, path: tuple, report: Report) -> Any:
    if not isinstance(value, (list, tuple)):
        return report.error(path, f"expected a list, got {show(value)}")
    result = json_value(value, path, report)
    return INVALID if result is INVALID else tuple(result)


def json_kwargs(value: Any, path: tuple, report: Report) -> Any:
    if not isinstance(value, Mapping):
        return report.error(path, f"expected a mapping, got {show(value)}")
    return json_value(value, path, report)


def recurring_queue(value: Any, path: tuple, report: Report) -> Any:
    if name(value, path, report) is INVALID:
        return INVALID
    if len(value) > MAX_QUEUE_NAME:
        return report.error(path, f"a queue name is at most {MAX_QUEUE_NAME} characters, got {len(value)}")
    if report.queues and value not in report.queues:
        listing = ", ".join(repr(q) for q in report.queues)
        return report.error(
            path, f"queue {value!r} is not in QUEUES ({listing}){hint(value, report.queues)}"
        )
    return value


def schedule(value: Any, path: tuple, report: Report) -> Any:
    from djq.cron import parse_schedule

    if not isinstance(value, str):
        return report.error(path, f"expected a cron expression, got {show(value)}")
    try:
        parse_schedule(value, UTC)  # zone only matters for firing times, not validity
    except ConfigurationError as exc:
        return report.error(path, str(exc))
    return value


def exception_paths(value: Any, path: tuple, report: Report) -> Any:
    entries = [value] if isinstance(value, str) else value
    if not isinstance(entries, (list, tuple)) or not entries:
        return report.error(path, f"expected exception class paths, got {show(value)}")
    ok = True
    for index, entry in enumerate(entries):
        entry_path = path if isinstance(value, str) else (*path, index)
        imported = _import(entry, entry_path, report, "a dotted exception class path")
        if imported is INVALID:
            ok = False
        elif not (isinstance(imported, type) and issubclass(imported, BaseException)):
            report.error(entry_path, f"{entry!r} is not an exception class")
            ok = False
    return tuple(entries) if ok else INVALID


def _mapping(spec: Mapping[str, Checker], build: Callable[..., Any], required=()) -> Checker:
    """A checker for a mapping whose keys are options listed in ``spec``."""

    def check(value: Any, path: tuple, report: Report, **extra: Any) -> Any:
        if not isinstance(value, Mapping):
            return report.error(path, f"expected a mapping, got {show(value)}")
        result, ok, guessed = {}, True, set()
        for key, item in value.items():
            if key not in spec:
                report.error(path, f"unknown option {key!r}{hint(key, spec)}")
                guessed.update(difflib.get_close_matches(str(key), list(spec), n=1))
                ok = False
                continue
            checked = spec[key](item, (*path, key), report)
            if checked is INVALID:
                ok = False
            result[key] = checked
        for key in required:
            if key not in value and key not in guessed:  # a typo was already reported
                report.error(path, f"missing required option {key!r}")
                ok = False
        return build(**extra, **result) if ok else INVALID

    return check


def _list_of(entry: Checker, most: int) -> Checker:
    def check(value: Any, path: tuple, report: Report) -> Any:
        if not isinstance(value, (list, tuple)):
            return report.error(path, f"expected a list of mappings, got {show(value)}")
        if len(value) > most:
            return report.error(path, f"expected at most {most:,} entries, got {len(value):,}")
        items = [entry(item, (*path, i), report) for i, item in enumerate(value)]
        return INVALID if any(item is INVALID for item in items) else tuple(items)

    return check


worker = _mapping(
    {
        "queues": queue_selectors,
        "threads": positive_int(LIMITS["threads"]),
        "processes": positive_int(LIMITS["processes"]),
        "polling_interval": interval,
        "prefetch_multiplier": positive_int(LIMITS["prefetch_multiplier"]),
    },
    WorkerConfig,
)
dispatcher = _mapping(
    {
        "batch_size": positive_int(LIMITS["batch_size"]),
        "polling_interval": interval,
        "concurrency_maintenance": boolean,
        "concurrency_maintenance_interval": interval,
    },
    DispatcherConfig,
)
scheduler = _mapping(
    {"dynamic_tasks_enabled": boolean, "polling_interval": interval}, SchedulerConfig
)
recurring_task = _mapping(
    {
        "task_path": task_path,
        "schedule": schedule,
        "args": json_args,
        "kwargs": json_kwargs,
        "queue_name": recurring_queue,
        "priority": priority,
        "description": text,
    },
    RecurringTaskConfig,
    required=("task_path", "schedule"),
)
_retry_mapping = _mapping(
    {
        "max_attempts": positive_int(LIMITS["max_attempts"]),
        "backoff_base": positive_number(LIMITS["backoff"]),
        "backoff_factor": _leaf(
            lambda v: _is_number(v) and v >= 1, "a number of at least 1", most=LIMITS["backoff_factor"]
        ),
        "backoff_cap": positive_number(LIMITS["backoff"]),
        "jitter": _leaf(lambda v: _is_number(v) and 0 <= v <= 1, "a number between 0 and 1"),
        "retry_on": exception_paths,
    },
    RetryPolicy,
)


def retry(value: Any, path: tuple, report: Report) -> Any:
    return None if value is None else _retry_mapping(value, path, report)


def recurring(value: Any, path: tuple, report: Report) -> Any:
    if not isinstance(value, Mapping):
        return report.error(path, f"expected a mapping of key -> task, got {show(value)}")
    if len(value) > LIMITS["recurring"]:
        return report.error(path, f"expected at most {LIMITS['recurring']:,} recurring tasks, got {len(value):,}")
    tasks, ok = [], True
    for key, entry in value.items():
        if not isinstance(key, str) or not key.strip():
            report.error(path, f"expected non-empty string keys, got {show(key)}")
            ok = False
            continue
        if len(key) > MAX_KEY:
            report.error(path, f"a recurring task key is at most {MAX_KEY} characters, got {len(key)}")
            ok = False
            continue
        task = recurring_task(entry, (*path, key), report, key=key)
        ok = ok and task is not INVALID
        tasks.append(task)
    return tuple(tasks) if ok else INVALID


OPTIONS: dict[str, Checker] = {
    "mode": mode,
    "workers": _list_of(worker, LIMITS["entries"]),
    "dispatchers": _list_of(dispatcher, LIMITS["entries"]),
    "scheduler": scheduler,
    "recurring": recurring,
    "database_alias": database_alias,
    "preserve_finished_jobs": boolean,
    "clear_finished_jobs_after": optional_positive(LIMITS["retention"]),
    "clear_failed_jobs_after": optional_positive(LIMITS["retention"]),
    "clear_recurring_executions_after": optional_positive(LIMITS["retention"]),
    "default_concurrency_duration": positive_number(LIMITS["concurrency_duration"]),
    "use_skip_locked": boolean,
    "listen_notify": boolean,
    "silence_polling": boolean,
    "process_heartbeat_interval": interval,
    "process_alive_threshold": positive_number(LIMITS["process_alive_threshold"]),
    "shutdown_timeout": non_negative,
    "supervisor_pidfile": optional_name,
    "on_thread_error": dotted_callable,
    "retry": retry,
    "max_payload_size": _leaf(
        lambda v: _is_int(v) and v >= 1024, "a number of bytes of at least 1024", most=LIMITS["max_payload_size"]
    ),
}


def check_options(
    merged: Mapping, sources: Mapping[Any, Source], queues: tuple[str, ...]
) -> tuple[dict[str, Any], list[str]]:
    """Validate merged top-level options: (BackendConfig field values, problems)."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in merged.items():
        report = Report(sources[key], problems, queues)
        if key not in OPTIONS:
            report.error((), f"unknown option {key!r}{hint(key, OPTIONS)}")
            continue
        checked = OPTIONS[key](value, (key,), report)
        if checked is not INVALID:
            values[key] = checked
    _check_heartbeat(merged, sources, values, problems)
    _check_recurring_payloads(sources, values, problems)
    return values, problems


def _stores_nul(database_alias: str) -> bool:
    """Whether the database can keep a NUL character in JSON text (PostgreSQL's jsonb cannot).

    Read from the settings' ENGINE, not from a connection: checks run before
    any connection exists (and ``djq.db.sql.stores_nul`` answers at run time).
    """
    from importlib import import_module

    from django.conf import settings

    try:
        engine = settings.DATABASES[database_alias]["ENGINE"]
        return import_module(f"{engine}.base").DatabaseWrapper.vendor != "postgresql"
    except Exception:  # an unknown alias or engine is reported on its own
        return True


def _check_recurring_payloads(sources, values, problems) -> None:
    """Recurring arguments must be storable on the backend's database, as at enqueue."""
    from djq.exceptions import EnqueueError
    from djq.payload import encode_arguments

    defaults = {f.name: f.default for f in fields(BackendConfig)}
    allow_nul = _stores_nul(values.get("database_alias", defaults["database_alias"]))
    max_bytes = values.get("max_payload_size", defaults["max_payload_size"])
    for task in values.get("recurring", ()):
        try:
            encode_arguments(task.args, task.kwargs, allow_nul=allow_nul, max_bytes=max_bytes)
        except EnqueueError as exc:
            problems.append(f"{sources['recurring'].where(('recurring', task.key))}: {exc}")


def _check_heartbeat(merged, sources, values, problems) -> None:
    beat_key, alive_key = "process_heartbeat_interval", "process_alive_threshold"
    if any(key in merged and key not in values for key in (beat_key, alive_key)):
        return  # already reported as invalid
    defaults = {f.name: f.default for f in fields(BackendConfig)}
    beat = values.get(beat_key, defaults[beat_key])
    alive = values.get(alive_key, defaults[alive_key])
    if alive > beat:
        return
    # Blame the threshold if a layer set it, else the interval that outgrew it.
    if alive_key in merged:
        where, reason = sources[alive_key].where((alive_key,)), f"greater than {beat_key} ({beat})"
        value = alive
    else:
        where, reason = sources[beat_key].where((beat_key,)), f"less than {alive_key} ({alive})"
        value = beat
    problems.append(f"{where}: must be {reason}, got {value}")
