"""The stats document: one JSON-ready mapping per backend, served by ``djq stats --json`` and ``/stats.json``.

Keys are part of djq's public interface (README, "stats.json"): new keys may
be added, existing ones keep their name, type and meaning. Times are ISO 8601
UTC strings, durations are seconds (floats), absent values are ``null``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

SCHEMA_VERSION = 1


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _count(value: Any) -> int | str:
    """A capped count: the number when exact, ``"10000+"`` beyond the cap."""
    return value.__json__() if hasattr(value, "__json__") else int(value)


def _cap(snap: Any) -> int | None:
    for value in snap.totals.values():
        return getattr(value, "cap", None)
    return None


def stats_document(snap: Any) -> dict[str, Any]:
    """The stable document for one snapshot (``djq.ops.stats.snapshot``)."""
    return {
        "schema": SCHEMA_VERSION,
        "backend": snap.backend_alias,
        "database": snap.database_alias,
        "generated_at": _time(snap.generated_at),
        "count_cap": _cap(snap),
        "totals": {state: _count(n) for state, n in snap.totals.items()},
        "oldest_ready_age_seconds": _seconds(snap.overview.oldest_ready_age),
        "finished_last_minute": int(snap.finished_last_minute),
        "failed_last_minute": int(snap.failed_last_minute),
        "throughput": [
            {"minute": _time(p.minute), "finished": p.finished, "failed": p.failed}
            for p in snap.overview.throughput
        ],
        "throughput_by_task": [
            {"queue_name": t.queue_name, "task_path": t.task_path, "finished": t.finished, "failed": t.failed,
             "runs": t.runs, "run_seconds": _seconds(t.run_seconds), "pickups": t.pickups,
             "pickup_seconds": _seconds(t.pickup_seconds)}
            for t in snap.throughput
        ],
        "paused_queues": list(snap.overview.paused_queues),
        "queues": [
            {
                "name": q.name, "ready": _count(q.ready), "scheduled": _count(q.scheduled),
                "claimed": _count(q.claimed), "blocked": _count(q.blocked), "failed": _count(q.failed),
                "paused": q.paused,
                "latency_seconds": _seconds(q.latency), "oldest_ready_at": _time(q.oldest_ready_at),
            }
            for q in snap.queues
        ],
        "processes": [
            {
                "id": p.id, "kind": p.kind, "name": p.name, "hostname": p.hostname, "pid": p.pid,
                "supervisor_id": p.supervisor_id, "last_heartbeat_at": _time(p.last_heartbeat_at),
                "heartbeat_age_seconds": _seconds(p.heartbeat_age), "alive": p.alive, "running": p.running,
            }
            for p in snap.processes
        ],
        "recurring": [
            {
                "key": t.key, "task_path": t.task_path, "schedule": t.schedule,
                "schedule_description": t.schedule_description, "queue_name": t.queue_name,
                "priority": t.priority, "static": t.static, "paused": t.paused,
                "next_run_at": _time(t.next_run_at), "last_run_at": _time(t.last_run_at),
            }
            for t in snap.recurring
        ],
        "semaphores": [
            {"key": s.key, "limit": s.limit, "free": s.free, "holders": s.holders, "blocked": s.blocked,
             "expires_at": _time(s.expires_at)}
            for s in snap.semaphores
        ],
    }
