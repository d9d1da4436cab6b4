"""The systems under test and everything the harness needs to know about each.

djq and dj-queue are django.tasks backends; procrastinate (through its Django
integration) and pgqueuer (not a Django app at all) bring their own API,
which ``clients.py`` wraps in the same three calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class System:
    name: str  # used in database names and result lines
    dist: str  # distribution name, for the version stamp
    app: str  # INSTALLED_APPS entry
    backend: str  # TASKS["default"]["BACKEND"]
    table_prefix: str  # every table of the app starts with this
    done_sql: str  # jobs in a terminal state
    failed_sql: str  # jobs that failed (should stay 0: the tasks are no-ops)
    span_sql: str  # (first, last) completion timestamp of terminal jobs
    processes_sql: str  # (pid, kind) of the live runtime processes
    extra_settings: str = ""
    # latency --trace: how to recognise, in the server's statement log, the
    # statement that stores a job and the statement that claims ready jobs
    enqueue_marker: str = ""
    claim_marker: str = ""
    client: str = "django"  # see clients.CLIENTS
    tasks_module: str = "django"  # see project.TASKS_MODULES
    tables: tuple[str, ...] = ()  # truncated before every measurement (default: the prefix's)

    def runtime_commands(self, python: str, manage_py: str, processes: int, threads: int,
                         polling_interval: float) -> list[list[str]]:
        """The commands that start the runtime (one per OS process the system wants started)."""
        if self.name == "djq":
            # The console script installed next to the interpreter.
            return [[str(Path(python).with_name("djq")), "start"]]
        if self.name == "dj_queue":
            return [[python, manage_py, "dj_queue"]]
        if self.name == "procrastinate":
            return [[python, manage_py, "procrastinate", "worker", "--concurrency", str(threads),
                     "--fetch-job-polling-interval", str(polling_interval), "--listen-notify"]] * processes
        if self.name == "pgqueuer":
            # pgqueuer.run() under uvloop, one QueueManager per process, `pgq run`'s defaults
            # (batch 10, no cap); the polling interval is its dequeue timeout.
            return [[python, "-m", "benchproj.tasks", "--batch-size", "10", "--dequeue-timeout",
                     str(polling_interval)]] * processes
        raise ValueError(self.name)

    def setup_commands(self, python: str, dsn: str) -> list[list[str]]:
        """Run after migrate, before every measurement (each must exit 0)."""
        if self.name != "pgqueuer":
            return []
        pgq = str(Path(python).with_name("pgq"))
        # durable tables (pgqueuer's default durability), installed once; its autovacuum settings
        return [
            ["sh", "-c", '"$0" --pg-dsn "$1" verify --expect present >/dev/null 2>&1'
             ' || "$0" --pg-dsn "$1" install --durability durable >/dev/null', pgq, dsn],
            [pgq, "--pg-dsn", dsn, "autovac"],
        ]


DJQ = System(
    name="djq",
    dist="djq",
    app="djq",
    backend="djq.backend.DjqBackend",
    table_prefix="djq_",
    done_sql="SELECT count(*) FROM djq_job WHERE state IN ('finished', 'failed', 'discarded')",
    failed_sql="SELECT count(*) FROM djq_job WHERE state = 'failed'",
    span_sql=(
        "SELECT min(finished_at), max(finished_at) FROM djq_job"
        " WHERE state IN ('finished', 'failed', 'discarded')"
    ),
    processes_sql="SELECT pid, kind FROM djq_process",
    enqueue_marker="INSERT INTO djq_job",
    claim_marker="SET state = 'claimed'",
)

DJ_QUEUE = System(
    name="dj_queue",
    dist="dj-queue",
    app="dj_queue",
    backend="dj_queue.backend.DjQueueBackend",
    table_prefix="dj_queue_",
    done_sql=(
        "SELECT (SELECT count(*) FROM dj_queue_jobs WHERE finished_at IS NOT NULL)"
        " + (SELECT count(*) FROM dj_queue_failed_executions)"
    ),
    failed_sql="SELECT count(*) FROM dj_queue_failed_executions",
    span_sql=(
        "SELECT min(t), max(t) FROM ("
        " SELECT finished_at AS t FROM dj_queue_jobs WHERE finished_at IS NOT NULL"
        " UNION ALL SELECT created_at FROM dj_queue_failed_executions) AS done"
    ),
    processes_sql="SELECT pid, kind FROM dj_queue_processes",
    enqueue_marker='INSERT INTO "dj_queue_jobs"',
    claim_marker='FROM "dj_queue_ready_executions"',
    # dj-queue routes its models through its own router (a no-op with one database).
    extra_settings='DATABASE_ROUTERS = ["dj_queue.routers.DjQueueRouter"]\n',
)

PROCRASTINATE = System(
    name="procrastinate",
    dist="procrastinate",
    app="procrastinate.contrib.django",
    backend="django.tasks.backends.dummy.DummyBackend",  # unused: its own API
    table_prefix="procrastinate_",
    done_sql=(
        "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('succeeded', 'failed', 'cancelled', 'aborted')"
    ),
    failed_sql="SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'",
    span_sql="SELECT min(at), max(at) FROM procrastinate_events WHERE type IN ('succeeded', 'failed')",
    processes_sql="SELECT pid, 'worker' FROM pg_stat_activity WHERE false",
    enqueue_marker="procrastinate_defer_jobs",
    claim_marker="procrastinate_fetch_job",
    client="procrastinate",
    tasks_module="procrastinate",
)

PGQUEUER = System(
    name="pgqueuer",
    dist="pgqueuer",
    app="",
    backend="django.tasks.backends.dummy.DummyBackend",  # unused: its own API
    table_prefix="pgqueuer",
    # finished jobs leave the queue table; their terminal status stays in the log
    done_sql="SELECT count(*) FROM pgqueuer_log WHERE status IN ('successful', 'exception', 'canceled', 'deleted')",
    failed_sql="SELECT count(*) FROM pgqueuer_log WHERE status = 'exception'",
    span_sql="SELECT min(created), max(created) FROM pgqueuer_log WHERE status IN ('successful', 'exception')",
    processes_sql="SELECT pid, 'worker' FROM pg_stat_activity WHERE false",
    enqueue_marker="INSERT INTO pgqueuer",
    claim_marker="UPDATE pgqueuer",
    client="pgqueuer",
    tasks_module="pgqueuer",
    tables=("pgqueuer", "pgqueuer_log", "pgqueuer_statistics", "pgqueuer_schedules"),
)

SYSTEMS: dict[str, System] = {s.name: s for s in (DJQ, DJ_QUEUE, PROCRASTINATE, PGQUEUER)}


def worker_options(processes: int, threads: int, polling_interval: float = 0.1, **extra) -> dict:
    """The same worker shape for both systems; everything else stays at each one's defaults."""
    return {
        "workers": [
            {"queues": "*", "threads": threads, "processes": processes, "polling_interval": polling_interval}
        ],
        **extra,
    }
