"""Jobs as operators see them: enqueue by path, inspect, retry, discard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections, transaction
from django.db.models import Q
from django.tasks import task_backends
from django.utils import timezone

from ..engine.building import build_job
from ..engine.handle import handle
from ..engine.task_results import load_task
from ..exceptions import DjqError, EnqueueError, JobNotFound, UndiscardableError
from ..models import Job
from ..states import ALL, BLOCKED, CLAIMED, DISCARDABLE, DISCARDED, FAILED, FINISHED, READY, SCHEDULED, TERMINAL
from .changes import BulkResult
from .pages import COUNT_CAP, InvalidCursor, Page, capped_count


def enqueue_by_path(
    backend_alias: str,
    task_path: str,
    args: list | None = None,
    kwargs: dict | None = None,
    *,
    queue_name: str | None = None,
    priority: int | None = None,
    run_after: datetime | None = None,
) -> int:
    """Enqueue a task named by its dotted path; returns the job id.

    With the application's code importable this goes through the task (its
    defaults, validation and signals). Without it (standalone mode) the job
    is stored by path, for a runtime that has the code to run it.
    """
    args, kwargs = list(args or []), dict(kwargs or {})
    backend = task_backends[backend_alias]
    try:
        task = load_task(task_path)
    except DjqError:
        task = None
    if task is not None:
        changes: dict[str, Any] = {"backend": backend_alias}
        if queue_name is not None:
            changes["queue_name"] = queue_name
        if priority is not None:
            changes["priority"] = priority
        if run_after is not None:
            changes["run_after"] = run_after
        try:
            result = task.using(**changes).enqueue(*args, **kwargs)
        except EnqueueError:
            raise
        except Exception as exc:  # Django's InvalidTask and friends
            raise EnqueueError(str(exc)) from exc
        return int(result.id)
    return _enqueue_stored_path(backend, task_path, args, kwargs, "default" if queue_name is None else queue_name,
                                0 if priority is None else priority, run_after)


def _enqueue_stored_path(backend, task_path, args, kwargs, queue_name, priority, run_after) -> int:
    job = build_job(backend, task_path=task_path, args=args, kwargs=kwargs, queue_name=queue_name,
                    priority=priority, run_after=run_after, now=timezone.now())
    [job_id] = backend.store([job])
    return job_id


# -- reading -------------------------------------------------------------------

STATES = tuple(str(s) for s in ALL)
LIST_FIELDS = ("id", "backend_alias", "queue_name", "task_path", "priority", "state", "enqueued_at",
               "scheduled_at", "started_at", "finished_at", "attempts", "worker_id", "concurrency_key")


@dataclass(frozen=True, slots=True)
class JobFilter:
    """Which jobs a listing or bulk verb applies to. Empty fields match everything."""

    backend_alias: str = "default"
    states: tuple[str, ...] = ()
    queue: str | None = None
    task_path: str | None = None
    exception_class: str | None = None
    older_than: float | None = None  # seconds since finished (failed) or enqueued (others)
    ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class AttemptInfo:
    number: int
    worker_id: str
    started_at: datetime | None
    finished_at: datetime | None
    duration: float | None
    error_class: str | None
    error_message: str | None
    traceback: str | None


@dataclass(frozen=True, slots=True)
class JobRow:
    id: int
    backend_alias: str
    queue_name: str
    task_path: str
    priority: int
    state: str
    enqueued_at: datetime
    scheduled_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    last_error: str | None
    worker_id: str | None
    concurrency_key: str | None
    #: The last error's exception class path and message, as stored at finish time (``None`` if none).
    error_class: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class JobDetail:
    job: JobRow
    args: list
    kwargs: dict
    return_value: object
    history: tuple[AttemptInfo, ...] = field(default_factory=tuple)
    recurring_key: str | None = None


def _parse_time(value) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _attempts(raw: list) -> tuple[AttemptInfo, ...]:
    out = []
    for n, a in enumerate(raw or [], 1):
        started, finished = _parse_time(a.get("started_at")), _parse_time(a.get("finished_at"))
        error = a.get("error") or {}
        out.append(AttemptInfo(
            number=n, worker_id=a.get("worker_id", ""), started_at=started, finished_at=finished,
            duration=(finished - started).total_seconds() if started and finished else None,
            error_class=error.get("exception_class_path"), error_message=error.get("message"),
            traceback=error.get("traceback"),
        ))
    return tuple(out)


def _row(values: dict) -> JobRow:
    attempts = values["attempts"] or []
    last = next((a["error"] for a in reversed(attempts) if a.get("error")), None)
    running = 1 if values["state"] == CLAIMED else 0
    error_class = values.get("error_class") or (last or {}).get("exception_class_path")
    error_message = values.get("error_message") if values.get("error_class") else (last or {}).get("message")
    return JobRow(
        id=values["id"], backend_alias=values["backend_alias"], queue_name=values["queue_name"],
        task_path=values["task_path"], priority=values["priority"], state=values["state"],
        enqueued_at=values["enqueued_at"], scheduled_at=values["scheduled_at"], started_at=values["started_at"],
        finished_at=values["finished_at"], attempts=len(attempts) + running,
        last_error=f"{last['exception_class_path'].rsplit('.', 1)[-1]}: {last.get('message', '')}" if last else None,
        worker_id=values["worker_id"], concurrency_key=values["concurrency_key"],
        error_class=error_class, error_message=error_message,
    )


def _queryset(flt: JobFilter):
    qs = Job.objects.using(handle(flt.backend_alias).database).filter(backend_alias=flt.backend_alias)
    if flt.ids:
        qs = qs.filter(id__in=flt.ids)
    if flt.states:
        qs = qs.filter(state__in=flt.states)
    if flt.queue:
        qs = qs.filter(queue_name=flt.queue)
    if flt.task_path:
        qs = qs.filter(task_path=flt.task_path)
    if flt.older_than is not None:
        cutoff = timezone.now() - timedelta(seconds=flt.older_than)
        if flt.states and set(flt.states) <= set(TERMINAL):
            qs = qs.filter(finished_at__lt=cutoff)
        else:
            qs = qs.filter(enqueued_at__lt=cutoff)
    return qs


def _error_matches(attempts: list, exception_class: str) -> bool:
    last = next((a["error"] for a in reversed(attempts or []) if a.get("error")), None)
    if not last:
        return False
    path = last["exception_class_path"]
    return path == exception_class or path.rsplit(".", 1)[-1] == exception_class


#: The order of each state's pages. Ready, scheduled and ended jobs walk an
#: index in this order (migrations 0002 and 0004); blocked and claimed jobs,
#: a backlog of one key and the running set, are sorted from their state's
#: index. ``None`` is every state at once, newest first (the primary key).
ORDERS: dict[str | None, str] = {
    READY: "priority DESC, id (claim order)",
    SCHEDULED: "scheduled_at, id (next due first)",
    BLOCKED: "priority DESC, id (release order)",
    CLAIMED: "started_at, id (longest running first)",
    FINISHED: "finished_at DESC, id DESC (newest first)",
    FAILED: "finished_at DESC, id DESC (newest first)",
    DISCARDED: "finished_at DESC, id DESC (newest first)",
    None: "id DESC (newest first)",
}


#: Each state's sort key as (field, descending); ``None`` is every state (or several) at once.
SORT_KEYS: dict[str | None, tuple[tuple[str, bool], ...]] = {
    READY: (("priority", True), ("id", False)),
    SCHEDULED: (("scheduled_at", False), ("id", False)),
    BLOCKED: (("priority", True), ("id", False)),
    CLAIMED: (("started_at", False), ("id", False)),
    FINISHED: (("finished_at", True), ("id", True)),
    FAILED: (("finished_at", True), ("id", True)),
    DISCARDED: (("finished_at", True), ("id", True)),
    None: (("id", True),),
}


def job_page(
    backend_alias: str,
    state: str | Sequence[str] | None,
    *,
    queue: str | None = None,
    task_path: str | None = None,
    exception_class: str | None = None,
    text: str | None = None,
    older_than: float | None = None,
    after: str | None = None,
    before: str | None = None,
    limit: int = 50,
    count_cap: int = COUNT_CAP,
) -> Page[JobRow]:
    """One page of ``state``'s jobs in that state's order (``ORDERS``), every filter in SQL.

    ``state`` is one state, or ``None`` (or several states) for all of them
    newest first.

    - ``queue``, ``task_path``: exact names.
    - ``exception_class``: the last error's class, as a dotted path or a bare
      class name (``TimeoutError`` matches ``builtins.TimeoutError``).
    - ``text``: a substring of the last error's message, in any case.
    - ``older_than``: seconds since the job ended (finished, failed and
      discarded jobs) or was enqueued (the others).
    - ``after`` / ``before``: a ``next_cursor`` / ``previous_cursor`` of an
      earlier page of the same listing; at most one of them.

    The page's ``count`` counts every matching job, capped at ``count_cap``
    (``str(page.count)`` reads "10,000+" beyond it). Raises
    ``InvalidCursor`` for a cursor this listing did not hand out.
    """
    states = (state,) if isinstance(state, str) else tuple(state or ())
    one = states[0] if len(states) == 1 else None
    if one is not None and one not in SORT_KEYS:
        raise DjqError(f"unknown job state {one!r}; choose from {', '.join(STATES)}")
    if after is not None and before is not None:
        raise InvalidCursor("give after= or before=, not both")
    keys = SORT_KEYS[one]
    name = one or "all"
    db = handle(backend_alias).database
    qs = Job.objects.using(db).filter(backend_alias=backend_alias)
    qs = qs.filter(state=one) if one else qs.filter(state__in=states) if states else qs
    if queue:
        qs = qs.filter(queue_name=queue)
    if task_path:
        qs = qs.filter(task_path=task_path)
    if exception_class:
        qs = qs.filter(_exception_filter(db, backend_alias, one, exception_class))
    if text:
        qs = qs.filter(error_message__icontains=text)
    if older_than is not None:
        cutoff = timezone.now() - timedelta(seconds=older_than)
        ended = one in TERMINAL or (states and set(states) <= set(TERMINAL))
        qs = qs.filter(finished_at__lt=cutoff) if ended else qs.filter(enqueued_at__lt=cutoff)
    cursor = after or before
    backwards = before is not None
    order = [("-" if desc != backwards else "") + column for column, desc in keys]
    count = capped_count(qs, count_cap, tuple(order))
    window = qs
    if cursor is not None:
        window = window.filter(_beyond(keys, _decode(cursor, name, keys), backwards=backwards))
    fetched = [_row(v) for v in window.order_by(*order).values(*LIST_FIELDS, "error_class", "error_message")
               [: limit + 1]]
    more = len(fetched) > limit
    rows = fetched[:limit]
    if backwards:
        rows.reverse()
    has_next = (more if not backwards else True) and bool(rows)
    has_previous = (cursor is not None if not backwards else more) and bool(rows)
    return Page(
        rows=tuple(rows), count=count,
        next_cursor=_encode(name, keys, rows[-1]) if has_next else None,
        previous_cursor=_encode(name, keys, rows[0]) if has_previous else None,
    )


def _beyond(keys: tuple[tuple[str, bool], ...], values: list, *, backwards: bool) -> Q:
    """Rows after ``values`` in the order ``keys`` (before them with ``backwards``), as an index range.

    For (a, id) it reads ``a >= x AND (a > x OR id > y)`` (directions per
    key), which every vendor turns into a range on ``a`` (the row-value
    form is not an index range on MariaDB).
    """

    def op(desc: bool, strict: bool) -> str:
        later = desc == backwards  # ascending forwards, or descending backwards: greater values come later
        return ("gt" if strict else "gte") if later else ("lt" if strict else "lte")

    (first, first_desc), rest = keys[0], keys[1:]
    if not rest:
        return Q(**{f"{first}__{op(first_desc, True)}": values[0]})
    (second, second_desc), = rest
    return Q(**{f"{first}__{op(first_desc, False)}": values[0]}) & (
        Q(**{f"{first}__{op(first_desc, True)}": values[0]}) | Q(**{f"{second}__{op(second_desc, True)}": values[1]})
    )


def _encode(name: str, keys, row: JobRow) -> str:
    parts = [name]
    for column, _desc in keys:
        value = getattr(row, column)
        parts.append(str(_micros(value) if isinstance(value, datetime) else value))
    return ".".join(parts)


def _decode(cursor: str, name: str, keys) -> list:
    parts = cursor.split(".")
    if len(parts) != len(keys) + 1 or parts[0] != name:
        raise InvalidCursor(f"{cursor!r} is not a cursor of this listing ({name} jobs); start from the first page")
    values: list = []
    for (column, _desc), text in zip(keys, parts[1:], strict=True):
        try:
            number = int(text)
        except ValueError:
            raise InvalidCursor(f"{cursor!r} is not a cursor of this listing; start from the first page") from None
        values.append(_from_micros(number) if column.endswith("_at") else number)
    return values


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _exception_filter(db: str, backend_alias: str, state: str | None, name: str) -> Q:
    """``error_class`` equal to a dotted path, or to any class path ending in a bare class name.

    For failed jobs the bare name is resolved to the stored class paths
    first (a loose scan of their error-class index, one probe per class),
    so the page is an equality range of that index; elsewhere it is a
    suffix match.
    """
    if "." in name:
        return Q(error_class=name)
    if state == FAILED:
        paths = [p for p in _failed_error_classes(db, backend_alias) if p == name or p.endswith("." + name)]
        return Q(error_class__in=paths)
    return Q(error_class=name) | Q(error_class__endswith="." + name)


def _failed_error_classes(db: str, backend_alias: str) -> list[str]:
    """The distinct error classes of ``backend_alias``'s failed jobs: one index probe each."""
    sql = (
        "WITH RECURSIVE c (name) AS ("
        " SELECT MIN(error_class) FROM djq_job WHERE state = 'failed' AND backend_alias = %s"
        " UNION ALL"
        " SELECT (SELECT MIN(j.error_class) FROM djq_job j WHERE j.state = 'failed' AND j.backend_alias = %s"
        " AND j.error_class > c.name) FROM c WHERE c.name IS NOT NULL"
        ") SELECT name FROM c WHERE name IS NOT NULL"
    )
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [backend_alias, backend_alias])
        return [row[0] for row in cursor.fetchall()]


def list_jobs(flt: JobFilter, *, limit: int = 50, before_id: int | None = None) -> list[JobRow]:
    """Newest first, ``limit`` at a time; pass the last id as ``before_id`` for the next page."""
    qs = _queryset(flt)
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    rows: list[JobRow] = []
    for values in qs.order_by("-id").values(*LIST_FIELDS).iterator(chunk_size=max(limit, 100)):
        if flt.exception_class and not _error_matches(values["attempts"], flt.exception_class):
            continue
        rows.append(_row(values))
        if len(rows) >= limit:
            break
    return rows


def get_job(backend_alias: str, job_id: int) -> JobDetail:
    values = (Job.objects.using(handle(backend_alias).database).filter(backend_alias=backend_alias, id=job_id)
              .values(*LIST_FIELDS, "payload", "return_value", "recurring_key").first())
    if values is None:
        raise JobNotFound(f"no job {job_id} in backend {backend_alias!r}")
    return JobDetail(
        job=_row(values), args=list(values["payload"].get("args", [])),
        kwargs=dict(values["payload"].get("kwargs", {})), return_value=values["return_value"],
        history=_attempts(values["attempts"]), recurring_key=values["recurring_key"],
    )


# -- bulk verbs -------------------------------------------------------------------


def _batches(flt: JobFilter, batch_size: int):
    """Yield lists of (id, attempts, state, key, queue) matching ``flt``, lowest ids first.

    Each batch is re-queried after the previous one was applied, so verbs
    that move jobs out of the filter make progress without OFFSET.
    """
    last = 0
    while True:
        rows = list(
            _queryset(flt).filter(id__gt=last).order_by("id")
            .values_list("id", "attempts", "state", "concurrency_key", "queue_name")[:batch_size]
        )
        if not rows:
            return
        last = rows[-1][0]
        if flt.exception_class:
            rows = [r for r in rows if _error_matches(r[1], flt.exception_class)]
        yield rows


def retry(flt: JobFilter, *, at: datetime | None = None, batch_size: int = 1000, dry_run: bool = False) -> BulkResult:
    """Run failed jobs again (now, or at ``at``), keeping their attempt history."""
    h = handle(flt.backend_alias)
    db = h.database
    flt_failed = JobFilter(**{**_asdict(flt), "states": (FAILED,)})
    total = BulkResult(dry_run=dry_run)
    if flt.ids:
        others = _queryset(flt).exclude(state=FAILED).count()
        missing = len(set(flt.ids)) - _queryset(JobFilter(backend_alias=flt.backend_alias, ids=flt.ids)).count()
        if others or missing:
            total = total + BulkResult(skipped=others + missing,
                                       reasons={k: v for k, v in (("not failed", others), ("not found", missing)) if v})
    now = timezone.now()
    woken: set[str] = set()
    for rows in _batches(flt_failed, batch_size):
        ids = [r[0] for r in rows]
        if dry_run:
            total = total + BulkResult(matched=len(ids), ids=tuple(ids), dry_run=True)
            continue
        with transaction.atomic(using=db):
            base = Job.objects.using(db).filter(id__in=ids, state=FAILED)
            later = at is not None and at > now
            keyed = base.filter(concurrency_key__isnull=False)
            # Limited jobs go through the dispatcher, which takes their slot.
            changed = keyed.update(state=SCHEDULED, scheduled_at=at if later else now, finished_at=None,
                                   return_value=None)
            plain = base.filter(concurrency_key__isnull=True)
            if later:
                changed += plain.update(state=SCHEDULED, scheduled_at=at, finished_at=None, return_value=None)
            else:
                changed += plain.update(state=READY, scheduled_at=now, finished_at=None, return_value=None)
                woken |= {r[4] for r in rows}
        total = total + BulkResult(matched=len(ids), changed=changed, ids=tuple(ids))
    if woken:
        h.dialect.notify(flt.backend_alias, sorted(woken))
    return total


def discard(flt: JobFilter, *, batch_size: int = 1000, dry_run: bool = False) -> BulkResult:
    """Delete ready, scheduled, blocked and failed jobs; running and finished ones are skipped.

    A single running job named by id raises ``UndiscardableError``.
    """
    h = handle(flt.backend_alias)
    db = h.database
    if len(flt.ids) == 1 and not flt.states:
        state = _queryset(flt).values_list("state", flat=True).first()
        if state is None:
            raise JobNotFound(f"no job {flt.ids[0]} in backend {flt.backend_alias!r}")
        if state == CLAIMED:
            raise UndiscardableError(f"job {flt.ids[0]} is running and cannot be discarded")
    states = tuple(s for s in (flt.states or DISCARDABLE) if s in DISCARDABLE)
    total = BulkResult(dry_run=dry_run)
    skipped = _queryset(flt).exclude(state__in=states).count() if flt.ids or flt.states else 0
    if flt.ids:
        missing = len(set(flt.ids)) - _queryset(JobFilter(backend_alias=flt.backend_alias, ids=flt.ids)).count()
        if missing:
            total = total + BulkResult(skipped=missing, reasons={"not found": missing})
    if skipped:
        total = total + BulkResult(skipped=skipped, reasons={"running or finished": skipped})
    now = timezone.now()
    dialect = h.dialect
    for rows in _batches(JobFilter(**{**_asdict(flt), "states": states}), batch_size):
        ids = [r[0] for r in rows]
        if dry_run:
            total = total + BulkResult(matched=len(ids), ids=tuple(ids), dry_run=True)
            continue
        with dialect.write_transaction():
            held = list(Job.objects.using(db).filter(id__in=ids, state=READY, concurrency_key__isnull=False)
                        .values_list("concurrency_key", flat=True))
            deleted, _ = Job.objects.using(db).filter(id__in=ids, state__in=states).delete()
            for key in held:  # a ready job holds its slot; give it back
                dialect.release_slot(key, now)
        total = total + BulkResult(matched=len(ids), changed=deleted, ids=tuple(ids))
    return total


def enqueue_again(backend_alias: str, job_id: int) -> int:
    """A fresh copy of any stored job (same task, arguments, queue and priority); returns its id."""
    detail = get_job(backend_alias, job_id)
    return enqueue_by_path(backend_alias, detail.job.task_path, detail.args, detail.kwargs,
                           queue_name=detail.job.queue_name, priority=detail.job.priority)


def _asdict(flt: JobFilter) -> dict:
    return {name: getattr(flt, name) for name in JobFilter.__dataclass_fields__}
