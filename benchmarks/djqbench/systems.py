"""The two systems under test and everything the harness needs to know about each."""

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

    def runtime_command(self, python: str, manage_py: str) -> list[str]:
        if self.name == "djq":
            # The console script installed next to the interpreter.
            return [str(Path(python).with_name("djq")), "start"]
        return [python, manage_py, "dj_queue"]


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

SYSTEMS: dict[str, System] = {s.name: s for s in (DJQ, DJ_QUEUE)}


def worker_options(processes: int, threads: int, polling_interval: float = 0.1, **extra) -> dict:
    """The same worker shape for both systems; everything else stays at each one's defaults."""
    return {
        "workers": [
            {"queues": "*", "threads": threads, "processes": processes, "polling_interval": polling_interval}
        ],
        **extra,
    }
