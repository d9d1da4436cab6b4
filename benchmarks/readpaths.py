"""The read models at a million jobs: server time per read, wall time through the real ``djq``, and the plans.

Creates its own PostgreSQL database (dropped at the end unless ``--keep``),
fills it with INSERT ... SELECT over generate_series (not the ORM):

- 1,000,000 finished, 100,000 failed, 50,000 ready and 10,000 scheduled
  jobs over 20 queues and 200 task paths (task k runs on queue k % 20);
- 0.1% of the failed jobs (100) raised ``app.errors.RareError``, the
  others one of four common exceptions;
- 50 semaphores with 200 blocked jobs between them, 4 live processes;
- 24 hours of the per-minute throughput rollup for the 200 tasks.

Then it times each read the front ends make:

- server time: every statement the read issues (captured from Django) is
  run again under ``EXPLAIN (ANALYZE, BUFFERS)``; the read's server time
  is the sum of their planning and execution times (median of 5 runs);
- wall time in-process (median of 5 calls, warm);
- wall time of the matching ``djq`` command (median of 5 runs of the
  console script in standalone mode), beside ``djq --version``.

The plans go to ``benchmarks/plans/<read>.txt`` (tracked), the numbers to
``benchmarks/results/readpaths-<time>.json``, and the run fails if a plan
holds a sequential scan of djq_job or a read misses its target (50 ms of
server time; the command within ``djq --version`` + 300 ms).

    .venv/bin/python benchmarks/readpaths.py [--db postgresql://postgres@127.0.0.1:5432/postgres] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DJQ = ROOT / ".venv" / "bin" / "djq"
PLANS = HERE / "plans"
RESULTS = HERE / "results"
RUNS = 5
SERVER_TARGET_MS = 50.0
CLI_MARGIN_MS = 300.0

FILL = [
    # 200 task paths over 20 queues; ids grow with time as in a real table.
    """
    INSERT INTO djq_job (backend_alias, queue_name, task_path, priority, state, payload, enqueued_at,
                         scheduled_at, started_at, finished_at, attempts, return_value)
    SELECT 'default', 'queue_' || (i % 200 % 20), 'app.tasks.task_' || (i % 200), 0, 'finished',
           '{"args": [1], "kwargs": {}}', t - interval '2 seconds', t - interval '2 seconds', t - interval '1 second',
           t, '[{"worker_id": "w", "started_at": "", "finished_at": "", "error": null}]', '1'
    FROM generate_series(1, 1000000) AS i, LATERAL (SELECT now() - interval '1 second' * (1000000 - i) * 2 AS t) AS x
    """,
    """
    INSERT INTO djq_job (backend_alias, queue_name, task_path, priority, state, payload, enqueued_at,
                         scheduled_at, started_at, finished_at, attempts, error_class, error_message)
    SELECT 'default', 'queue_' || (i % 200 % 20), 'app.tasks.task_' || (i % 200), 0, 'failed',
           '{"args": [1], "kwargs": {}}', t - interval '2 seconds', t - interval '2 seconds', t - interval '1 second',
           t, jsonb_build_array(jsonb_build_object('worker_id', 'w', 'started_at', '', 'finished_at', '',
               'error', jsonb_build_object('exception_class_path', e, 'message', 'failed on item ' || i,
                                           'traceback', 'Traceback (most recent call last): ...'))),
           e, 'failed on item ' || i
    FROM generate_series(1, 100000) AS i,
         LATERAL (SELECT now() - interval '1 second' * (100000 - i) * 20 AS t,
                  CASE WHEN i % 1000 = 7 THEN 'app.errors.RareError'
                       ELSE (ARRAY['builtins.ValueError', 'builtins.KeyError', 'builtins.TimeoutError',
                                   'app.errors.PartnerDown'])[1 + i % 4] END AS e) AS x
    """,
    """
    INSERT INTO djq_job (backend_alias, queue_name, task_path, priority, state, payload, enqueued_at, scheduled_at,
                         attempts)
    SELECT 'default', 'queue_' || (i % 200 % 20), 'app.tasks.task_' || (i % 200), (i % 11) - 5, 'ready',
           '{"args": [1], "kwargs": {}}', now() - interval '1 millisecond' * (50000 - i),
           now() - interval '1 millisecond' * (50000 - i), '[]'
    FROM generate_series(1, 50000) AS i
    """,
    """
    INSERT INTO djq_job (backend_alias, queue_name, task_path, priority, state, payload, enqueued_at, scheduled_at,
                         attempts)
    SELECT 'default', 'queue_' || (i % 200 % 20), 'app.tasks.task_' || (i % 200), 0, 'scheduled',
           '{"args": [1], "kwargs": {}}', now(), now() + interval '1 second' * i, '[]'
    FROM generate_series(1, 10000) AS i
    """,
    """
    INSERT INTO djq_job (backend_alias, queue_name, task_path, priority, state, payload, enqueued_at, scheduled_at,
                         attempts, concurrency_key, concurrency_limit, concurrency_duration, concurrency_on_conflict,
                         blocked_until)
    SELECT 'default', 'queue_' || (i % 20), 'app.tasks.sync_account', 0, 'blocked', '{"args": [1], "kwargs": {}}',
           now(), now(), '[]', 'account:' || (i % 50), 1, 300, 'block', now() + interval '5 minutes'
    FROM generate_series(1, 200) AS i
    """,
    """
    INSERT INTO djq_semaphore (concurrency_key, value, slot_limit, expires_at, created_at, updated_at)
    SELECT 'account:' || k, 0, 1, now() + interval '5 minutes', now(), now() FROM generate_series(0, 49) AS k
    """,
    """
    INSERT INTO djq_process (backend_alias, kind, name, hostname, pid, supervisor_id, metadata, last_heartbeat_at,
                             created_at)
    SELECT 'default', k, k || '-1', 'bench', 1000 + n, NULL, '{}', now(), now()
    FROM unnest(ARRAY['supervisor', 'worker', 'dispatcher', 'scheduler']) WITH ORDINALITY AS p(k, n)
    """,
    """
    INSERT INTO djq_throughput (backend_alias, minute, queue_name, task_path, shard, finished, failed, run_seconds,
                                runs, pickup_seconds, pickups)
    SELECT 'default', date_trunc('minute', now()) - interval '1 minute' * m, 'queue_' || (t % 20),
           'app.tasks.task_' || t, 0, 3, (t + m) % 2, 3.0, 4, 0.02, 4
    FROM generate_series(0, 1439) AS m, generate_series(0, 199) AS t
    """,
]


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def setup_django(url: str) -> None:
    import django
    from django.conf import settings

    from djq_cli.bootstrap import standalone_settings

    settings.configure(**standalone_settings(url))
    django.setup()


def fill(url: str) -> float:
    from django.core.management import call_command
    from django.db import connection

    started = time.monotonic()
    call_command("migrate", "djq", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        for sql in FILL:
            cursor.execute(sql)
        cursor.execute("VACUUM ANALYZE djq_job")
        cursor.execute("VACUUM ANALYZE djq_throughput")
        cursor.execute("ANALYZE")
    return time.monotonic() - started


def reads() -> dict:
    """name -> (in-process call, djq command line)."""
    from djq.ops.jobs import job_page
    from djq.ops.overview import overview
    from djq.ops.queues import list_queues
    from djq.ops.semaphores import list_semaphores
    from djq.ops.stats import build_snapshot

    cursors = [None]
    for _ in range(4):
        cursors.append(job_page("default", "failed", exception_class="RareError", limit=20,
                                after=cursors[-1]).next_cursor)
    fifth = cursors[4]
    return {
        "overview": (lambda: overview("default"), ["status"]),
        "queue_rows": (lambda: list_queues("default"), ["queues", "list"]),
        "failed_rare_page_1": (lambda: job_page("default", "failed", exception_class="RareError", limit=20),
                               ["jobs", "list", "--state", "failed", "--exception", "RareError", "--limit", "20"]),
        "failed_rare_page_5": (lambda: job_page("default", "failed", exception_class="RareError", limit=20,
                                                after=fifth),
                               ["jobs", "list", "--state", "failed", "--exception", "RareError", "--limit", "20",
                                "--after", fifth]),
        "finished_page_1": (lambda: job_page("default", "finished"), ["jobs", "list", "--state", "finished"]),
        "semaphores": (lambda: list_semaphores("default"), ["semaphores", "list"]),
        "snapshot": (lambda: build_snapshot("default"), ["stats"]),
    }


def server_time(call) -> tuple[float, list[str], list[str]]:
    """(median server ms, the statements, their plans) of one read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    statements = [q["sql"] for q in captured.captured_queries]
    totals, plans = [], []
    with connection.cursor() as cursor:
        for sql in statements:  # the plans to keep, with per-node times
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plans.append(sql + "\n\n" + "\n".join(row[0] for row in cursor.fetchall()))
        for _ in range(RUNS):  # the times, without the per-row clock reads of TIMING ON
            total = 0.0
            for sql in statements:
                cursor.execute("EXPLAIN (ANALYZE, TIMING OFF) " + sql)
                for (line,) in cursor.fetchall():
                    if line.startswith(("Planning Time:", "Execution Time:")):
                        total += float(line.split(":")[1].split()[0])
            totals.append(total)
    return statistics.median(totals), statements, plans


def wall_ms(call) -> float:
    call()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def cli_ms(url: str, args: list[str]) -> float:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: byte code cached, not compiled per run
    command = [str(DJQ), *(["--database-url", url] if args != ["--version"] else []), *args]
    subprocess.run(command, env=env, capture_output=True, timeout=120)  # warm: caches, byte code
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        times.append((time.perf_counter() - started) * 1000)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {proc.stderr}")
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_ADMIN_DB", "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="a database URL on the server to use (the benchmark creates and drops its own database)")
    parser.add_argument("--keep", action="store_true", help="keep the filled database (its name is printed)")
    parser.add_argument("--server-only", action="store_true", help="skip the command-line timings")
    parser.add_argument("--reuse", metavar="NAME", help="time the reads on a database kept by an earlier --keep")
    options = parser.parse_args()
    name = options.reuse or f"djq_readpaths_{os.getpid()}"
    url = with_db(options.db, name)
    if not options.reuse:
        admin(options.db, f"CREATE DATABASE {name}")
    try:
        setup_django(url)
        if options.reuse:
            from django.core.management import call_command

            call_command("migrate", "djq", verbosity=0, interactive=False)
        else:
            print(f"filled {name} in {fill(url):.0f} s", flush=True)
        PLANS.mkdir(exist_ok=True)
        RESULTS.mkdir(exist_ok=True)
        version = 0.0 if options.server_only else cli_ms(url, ["--version"])
        results, failures = {}, []
        for read, (call, args) in reads().items():
            server, statements, plans = server_time(call)
            (PLANS / f"{read}.txt").write_text(f"-- {read}: {len(statements)} statements\n\n"
                                                + "\n\n-- next statement\n\n".join(plans) + "\n")
            seq = [p for p in plans if "Seq Scan on djq_job" in p]
            command = 0.0 if options.server_only else cli_ms(url, args)
            results[read] = {"server_ms": round(server, 2), "statements": len(statements),
                             "in_process_ms": round(wall_ms(call), 2), "cli_ms": round(command, 1),
                             "cli": "djq " + " ".join(args), "seq_scan_on_djq_job": bool(seq)}
            if server >= SERVER_TARGET_MS:
                failures.append(f"{read}: {server:.1f} ms of server time")
            if command >= version + CLI_MARGIN_MS:
                failures.append(f"djq {' '.join(args)}: {command:.0f} ms (djq --version {version:.0f} ms)")
            if seq:
                failures.append(f"{read}: a plan has a Seq Scan on djq_job")
        report(results, version)
        load = os.getloadavg()
        print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
        stamp = time.strftime("%Y%m%dT%H%M%S")
        (RESULTS / f"readpaths-{stamp}.json").write_text(json.dumps(
            {"version_ms": round(version, 1), "reads": results, "failures": failures, "load": load},
            indent=2) + "\n")
        for failure in failures:
            print("MISSED:", failure)
        return 1 if failures else 0
    finally:
        from django.db import connections

        connections.close_all()
        if options.keep or options.reuse:
            print(f"kept {name} (--reuse {name})")
        else:
            admin(options.db, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def report(results: dict, version: float) -> None:
    print(f"\n| read | statements | server ms | in-process ms | command | command ms (djq --version {version:.0f}) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for read, r in results.items():
        print(f"| {read} | {r['statements']} | {r['server_ms']:.2f} | {r['in_process_ms']:.1f} | `{r['cli']}` |"
              f" {r['cli_ms']:.0f} |")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
