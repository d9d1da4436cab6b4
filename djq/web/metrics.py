"""Prometheus exposition of a backend's snapshot (needs prometheus-client: ``pip install "djq[prometheus]"``).

Gauges describe the present (capped counts, pauses, processes); counters
and summaries come from the per-minute rollup, counted from the start of
the current counter period (``source.counter_start``: they restart at 0
twice a day, which ``rate()`` treats as a counter reset). A scrape reads the
cached snapshot and the rollup, never the jobs table as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import source

#: The families (name -> labels) a scrape exposes, in order.
FAMILIES = {
    "djq_queue_jobs": ("backend", "queue", "state"),
    "djq_queue_paused": ("backend", "queue"),
    "djq_queue_latency_seconds": ("backend", "queue"),
    "djq_queue_live_workers": ("backend", "queue"),
    "djq_runner_processes": ("backend", "status"),
    "djq_runner_processes_by_kind": ("backend", "kind", "status"),
    "djq_recurring_tasks": ("backend",),
    "djq_semaphores": ("queue_database",),
    "djq_process_rows": ("backend",),
    "djq_jobs_finished": ("backend", "queue", "task"),          # counter: djq_jobs_finished_total
    "djq_jobs_failed": ("backend", "queue", "task"),            # counter: djq_jobs_failed_total
    "djq_job_run_seconds": ("backend", "queue"),                # summary: _count, _sum
    "djq_job_pickup_latency_seconds": ("backend", "queue"),     # summary: _count, _sum
}

QUEUE_STATES = ("ready", "scheduled", "claimed", "blocked", "failed")
KINDS = ("supervisor", "worker", "dispatcher", "scheduler")


def available() -> bool:
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        return False
    return True


class SnapshotCollector:
    """A prometheus-client collector over the snapshots of some backends."""

    def __init__(self, backend_aliases: Iterable[str]) -> None:
        self.backend_aliases = list(backend_aliases)

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily

        def gauge(name: str, doc: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, labels=FAMILIES[name])

        jobs = gauge("djq_queue_jobs", "Jobs per queue and state (counts capped by the read model).")
        paused = gauge("djq_queue_paused", "1 when the queue is paused, else 0.")
        latency = gauge("djq_queue_latency_seconds", "Seconds the oldest ready job of the queue has waited.")
        live = gauge("djq_queue_live_workers", "Live worker processes that claim from the queue.")
        runners = gauge("djq_runner_processes", "Runtime processes by heartbeat status (alive or stale).")
        by_kind = gauge("djq_runner_processes_by_kind", "Runtime processes by kind and heartbeat status.")
        recurring = gauge("djq_recurring_tasks", "Recurring tasks of the backend.")
        semaphores = gauge("djq_semaphores", "Concurrency semaphores on the queue database.")
        rows = gauge("djq_process_rows", "Rows in the process table for the backend.")
        finished = CounterMetricFamily("djq_jobs_finished", "Jobs finished, per queue and task.",
                                       labels=FAMILIES["djq_jobs_finished"])
        failed = CounterMetricFamily("djq_jobs_failed", "Jobs failed, per queue and task.",
                                     labels=FAMILIES["djq_jobs_failed"])
        run = SummaryMetricFamily("djq_job_run_seconds", "Run time of finished and failed jobs.",
                                  labels=FAMILIES["djq_job_run_seconds"])
        pickup = SummaryMetricFamily("djq_job_pickup_latency_seconds",
                                     "Seconds from due to claimed, per queue.",
                                     labels=FAMILIES["djq_job_pickup_latency_seconds"])
        databases: dict[str, int] = {}
        for alias in self.backend_aliases:
            snap = source.snapshot(alias)
            workers = source.live_workers_by_queue(snap)
            for q in snap.queues:
                for state in QUEUE_STATES:
                    jobs.add_metric([alias, q.name, state], int(getattr(q, state)))
                paused.add_metric([alias, q.name], 1 if q.paused else 0)
                latency.add_metric([alias, q.name], q.latency or 0.0)
                live.add_metric([alias, q.name], workers.get(q.name, 0))
            status = {"alive": 0, "stale": 0}
            kinds = {(k, s): 0 for k in KINDS for s in ("alive", "stale")}
            for p in snap.processes:
                s = "alive" if p.alive else "stale"
                status[s] += 1
                kinds[(p.kind, s)] = kinds.get((p.kind, s), 0) + 1
            for s, n in status.items():
                runners.add_metric([alias, s], n)
            for (k, s), n in kinds.items():
                by_kind.add_metric([alias, k, s], n)
            recurring.add_metric([alias], len(snap.recurring))
            rows.add_metric([alias], len(snap.processes))
            databases[snap.database_alias] = len(snap.semaphores)
            per_queue: dict[str, list[float]] = {}
            since = None
            for t in source.rollup_totals(alias):
                since = t.since.timestamp()
                finished.add_metric([alias, t.queue, t.task_path], t.finished, created=since)
                failed.add_metric([alias, t.queue, t.task_path], t.failed, created=since)
                acc = per_queue.setdefault(t.queue, [0, 0.0, 0, 0.0])
                acc[0] += t.runs
                acc[1] += t.run_seconds
                acc[2] += t.pickups
                acc[3] += t.pickup_seconds
            for queue, (runs, run_sum, pickups, pickup_sum) in sorted(per_queue.items()):
                run.add_metric([alias, queue], count_value=runs, sum_value=run_sum)
                pickup.add_metric([alias, queue], count_value=pickups, sum_value=pickup_sum)
        for db, n in sorted(databases.items()):
            semaphores.add_metric([db], n)
        yield from (jobs, paused, latency, live, runners, by_kind, recurring, semaphores, rows,
                    finished, failed, run, pickup)


def exposition(backend_aliases: Iterable[str]) -> tuple[bytes, str]:
    """The scrape body and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(backend_aliases))
    return generate_latest(registry), CONTENT_TYPE_LATEST
