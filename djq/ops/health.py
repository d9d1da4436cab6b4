"""Live processes and health: what runs, how fresh its heartbeat is, and whether that is enough."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count
from django.utils import timezone

from ..engine.handle import handle
from ..models import Job, Process
from ..states import CLAIMED


@dataclass(frozen=True, slots=True)
class ProcessRow:
    id: int
    kind: str
    name: str
    hostname: str
    pid: int
    supervisor_id: int | None
    last_heartbeat_at: datetime
    heartbeat_age: float
    alive: bool
    running: int
    metadata: dict


@dataclass(frozen=True, slots=True)
class Health:
    healthy: bool
    reason: str
    live: dict[str, int]
    stale: dict[str, int]
    max_age: float


def list_processes(backend_alias: str) -> list[ProcessRow]:
    cfg = handle(backend_alias).config
    db = cfg.database_alias
    rows = list(Process.objects.using(db).filter(backend_alias=backend_alias).order_by("supervisor_id", "kind", "name"))
    running = dict(
        Job.objects.using(db).filter(state=CLAIMED, process_id__in=[p.pk for p in rows])
        .values("process_id").annotate(n=Count("id")).order_by().values_list("process_id", "n")
    )
    now = timezone.now()
    return [
        ProcessRow(
            id=p.pk, kind=p.kind, name=p.name, hostname=p.hostname, pid=p.pid, supervisor_id=p.supervisor_id,
            last_heartbeat_at=p.last_heartbeat_at, heartbeat_age=(now - p.last_heartbeat_at).total_seconds(),
            alive=(now - p.last_heartbeat_at).total_seconds() <= cfg.process_alive_threshold,
            running=running.get(p.pk, 0), metadata=p.metadata,
        )
        for p in rows
    ]


def health(backend_alias: str, *, max_age: float | None = None) -> Health:
    """Healthy when at least one process heartbeat is fresher than ``max_age`` (default: the alive threshold)."""
    cfg = handle(backend_alias).config
    limit = max_age if max_age is not None else cfg.process_alive_threshold
    live: dict[str, int] = {}
    stale: dict[str, int] = {}
    for p in list_processes(backend_alias):
        bucket = live if p.heartbeat_age <= limit else stale
        bucket[p.kind] = bucket.get(p.kind, 0) + 1
    if not live and not stale:
        return Health(False, f"no djq process is registered for backend {backend_alias!r}", live, stale, limit)
    if not live:
        return Health(False, f"no djq process has sent a heartbeat in the last {limit:.0f}s", live, stale, limit)
    if "worker" not in live:
        return Health(False, f"no live worker for backend {backend_alias!r}", live, stale, limit)
    summary = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in sorted(live.items()))
    return Health(True, f"healthy: {summary}", live, stale, limit)
