"""Jobs as operators see them: enqueue by path, inspect, retry, discard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.tasks import task_backends
from django.utils import timezone

from ..engine.building import build_job
from ..engine.handle import handle
from ..engine.task_results import load_task
from ..exceptions import DjqError, EnqueueError, JobNotFound, UndiscardableError
from ..models import Job
from ..states import ALL, CLAIMED, DISCARDABLE, FAILED, READY, SCHEDULED, TERMINAL
from .changes import BulkResult


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
    return JobRow(
        id=values["id"], backend_alias=values["backend_alias"], queue_name=values["queue_name"],
        task_path=values["task_path"], priority=values["priority"], state=values["state"],
        enqueued_at=values["enqueued_at"], scheduled_at=values["scheduled_at"], started_at=values["started_at"],
        finished_at=values["finished_at"], attempts=len(attempts) + running,
        last_error=f"{last['exception_class_path'].rsplit('.', 1)[-1]}: {last.get('message', '')}" if last else None,
        worker_id=values["worker_id"], concurrency_key=values["concurrency_key"],
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
