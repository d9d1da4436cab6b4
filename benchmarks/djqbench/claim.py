"""Claim time against backlog size (djq only).

For each size the job table is refilled with that many ready rows in one
``INSERT ... SELECT generate_series`` and analysed; then djq's own claim
(``PostgresDialect.claim`` of 10 jobs, selector ``*``) is timed many times,
each inside a transaction that is rolled back, so the backlog stays exactly
the size under test. The statement that claim sends is captured and run
under ``EXPLAIN (ANALYZE, BUFFERS)``; the plan is saved and checked: it must
walk the partial index ``djq_job_ready`` and contain no Sort node.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from .stats import percentile, rnd

LIMIT = 10
FILL = """
INSERT INTO djq_job (backend_alias, queue_name, task_path, priority, state, payload,
                     enqueued_at, scheduled_at, attempts)
SELECT 'default', 'default', 'benchproj.tasks.noop', 0, 'ready',
       jsonb_build_object('args', jsonb_build_array(), 'kwargs', jsonb_build_object('i', g)),
       now(), now(), '[]'::jsonb
FROM generate_series(1, %s) AS g
"""


def _plan_nodes(node: dict) -> list[dict]:
    out = [node]
    for child in node.get("Plans", []):
        out.extend(_plan_nodes(child))
    return out


def claim_backlog(ctx) -> dict:
    if ctx.system.name != "djq":
        return {"skipped": "claim vs backlog measures djq's claim statement only"}
    from django.db import connection, transaction
    from django.utils import timezone

    from djq.db.sql.postgresql import PostgresDialect

    spec = ctx.spec
    results_dir = Path(spec["results_dir"])
    results_dir.mkdir(parents=True, exist_ok=True)
    dialect = PostgresDialect("default")
    now = timezone.now()

    def claim_once() -> tuple[float, int]:
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SELECT 1")  # BEGIN goes out here, outside the timed part
            t = time.perf_counter()
            jobs = dialect.claim("default", ["*"], LIMIT, process_id=1, worker_id="bench", now=now)
            elapsed = time.perf_counter() - t
            transaction.set_rollback(True)
        return elapsed, len(jobs)

    def explain(sql: str, params: list, options: str):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"EXPLAIN ({options}) {sql}", params)
            rows = cur.fetchall()
            transaction.set_rollback(True)
        return rows

    sizes_out = []
    for size in spec["sizes"]:
        with connection.cursor() as cur:
            cur.execute("TRUNCATE djq_job RESTART IDENTITY")
            t = time.perf_counter()
            cur.execute(FILL, [size])
            fill_s = time.perf_counter() - t
            cur.execute("VACUUM ANALYZE djq_job")
        for _ in range(20):
            claim_once()
        timings = []
        for _ in range(spec["reps"]):
            elapsed, got = claim_once()
            if got != LIMIT:
                raise RuntimeError(f"claim returned {got} jobs from a backlog of {size}")
            timings.append(elapsed)

        # The statement claim() sends, with its parameters (djq binds them server-side).
        sql, params = dialect.claim_sql("default", ["*"], LIMIT, process_id=1, worker_id="bench", now=now)
        exec_ms, plan_json = [], None
        for _ in range(25):
            plan_json = explain(sql, params, "ANALYZE, FORMAT JSON")[0][0]
            if isinstance(plan_json, str):
                plan_json = json.loads(plan_json)
            exec_ms.append(plan_json[0]["Execution Time"])
        nodes = _plan_nodes(plan_json[0]["Plan"])
        indexes = sorted({n["Index Name"] for n in nodes if "Index Name" in n})
        sorts = [n["Node Type"] for n in nodes if "Sort" in n["Node Type"]]
        text_plan = "\n".join(r[0] for r in explain(sql, params, "ANALYZE, BUFFERS"))
        plan_file = results_dir / f"claim_plan_{size}.txt"
        plan_file.write_text(
            f"-- djq claim of {LIMIT} jobs, backlog of {size:,} ready rows"
            f" (PostgresDialect.claim, selector '*')\n-- statement as sent:\n{sql}\n\n"
            f"-- EXPLAIN (ANALYZE, BUFFERS), run in a transaction that was rolled back:\n{text_plan}\n"
        )
        sizes_out.append({
            "ready_rows": size,
            "claim_p50_ms": rnd(percentile(timings, 50) * 1000, 4),
            "claim_p10_ms": rnd(percentile(timings, 10) * 1000, 4),
            "claim_p90_ms": rnd(percentile(timings, 90) * 1000, 4),
            "server_exec_p50_ms": rnd(statistics.median(exec_ms), 4),
            "indexes": indexes,
            "walks_djq_job_ready": "djq_job_ready" in indexes,
            "sort_nodes": sorts,
            "fill_s": rnd(fill_s, 2),
            "plan_file": str(plan_file),
        })
    with connection.cursor() as cur:
        cur.execute("TRUNCATE djq_job RESTART IDENTITY")
        cur.execute("VACUUM ANALYZE djq_job")
    first, last = sizes_out[0], sizes_out[-1]
    return {
        "value": last["claim_p50_ms"],
        "sizes": sizes_out,
        "growth_client": rnd(last["claim_p50_ms"] / first["claim_p50_ms"], 2),
        "growth_server": rnd(last["server_exec_p50_ms"] / first["server_exec_p50_ms"], 2),
        "plans_ok": all(s["walks_djq_job_ready"] and not s["sort_nodes"] for s in sizes_out),
        "reps": spec["reps"],
    }
