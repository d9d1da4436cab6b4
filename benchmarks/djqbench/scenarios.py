"""The measurements, run inside a child process after ``django.setup()``.

Each function takes the ``Ctx`` of one (system, scenario) measurement and
returns a flat-ish dict; ``value`` is the headline figure.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import pyspy
from .pg import Observer, Server, count_logged_statements, logged_statements, wait_for_backends_to_exit
from .runtime import Runtime, client_ports_by_process
from .stats import ms_summary, rnd
from .systems import System

TX_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START")


@dataclass
class Ctx:
    system: System
    server: Server
    spec: dict
    workdir: Path
    manage: Path
    env: dict  # environment of runtime processes
    stamps: Path
    notes: list[str] = field(default_factory=list)
    _client: object = None

    @property
    def dbname(self) -> str:
        return self.server.dbname(self.system.name)

    def runtime(self) -> Runtime:
        spec = self.spec
        cmds = self.system.runtime_commands(sys.executable, str(self.manage), spec["processes"], spec["threads"],
                                            spec["polling_interval"])
        return Runtime(cmds, env=self.env, cwd=self.workdir, log=self.workdir / "runtime.log")

    def observer(self) -> Observer:
        return Observer(self.server, self.system.name)

    def db(self):
        """A fresh observer connection to the system's database (for counts)."""
        return self.server.connect(self.dbname)

    @property
    def client(self):
        if self._client is None:
            from .clients import CLIENTS

            self._client = CLIENTS[self.system.client]()
        return self._client

    def spy_path(self, what: str) -> Path | None:
        base = self.spec.get("py_spy")
        if not base:
            return None
        topo = f"{self.spec['processes']}x{self.spec['threads']}"
        return Path(base) / f"{what}-{self.system.name}-{topo}-rep{self.spec.get('rep', 0)}.txt"


def scalar(conn, sql: str):
    return conn.execute(sql).fetchone()[0]


def close_django_connections() -> None:
    from django.db import connections

    connections.close_all()


@contextmanager
def profile_self(ctx: Ctx, what: str):
    """py-spy on this very process (client-side cost of enqueue)."""
    out = ctx.spy_path(what)
    if out is None:
        yield
        return
    spy = pyspy.start(os.getpid(), out, subprocesses=False, gil=ctx.spec.get("py_spy_gil", False), rate=500)
    time.sleep(0.5)  # let py-spy attach before the timed part
    try:
        yield
    finally:
        pyspy.finish(spy)
        ctx.notes.append(f"py-spy profile: {out}")


def is_internal(query: str) -> bool:
    """Referential-integrity checks: Django's FKs are DEFERRABLE INITIALLY DEFERRED, so their
    checks run at COMMIT at the top level and pg_stat_statements lists them; no client sent them."""
    return "FROM ONLY" in query and "FOR KEY SHARE OF" in query


def statements_per(observer: Observer, count: int) -> dict:
    stmts = observer.statements()
    total = sum(s["calls"] for s in stmts)
    internal = sum(s["calls"] for s in stmts if is_internal(s["query"]))
    tx = sum(s["calls"] for s in stmts if s["query"].split(" ", 1)[0].upper() in TX_CONTROL)
    return {
        "statements_per_job": rnd(total / count, 3),
        "client_statements_per_job": rnd((total - internal) / count, 3),
        "statements_per_job_no_tx": rnd((total - internal - tx) / count, 3),
        "fk_checks_per_job": rnd(internal / count, 3),
        "server_ms_per_job": rnd(sum(s["total_ms"] for s in stmts) / count, 4),
        "top_statements": [
            {"per_job": rnd(s["calls"] / count, 3), "mean_ms": rnd(s["total_ms"] / s["calls"], 4),
             "query": s["query"][:240]}
            for s in stmts[:12]
        ],
    }


# -- enqueue -------------------------------------------------------------------------


def enqueue_single(ctx: Ctx) -> dict:
    n = ctx.spec["n"]
    client = ctx.client
    for k in range(20):  # connection, imports, statement caches
        client.enqueue("noop", i=-1 - k)
    obs = ctx.observer()
    obs.reset_statements()
    durations = []
    with profile_self(ctx, "enqueue_single"):
        t0 = time.perf_counter()
        for i in range(n):
            t = time.perf_counter()
            client.enqueue("noop", i=i)
            durations.append(time.perf_counter() - t)
        elapsed = time.perf_counter() - t0
    stmts = statements_per(obs, n)
    obs.close()
    calls = ms_summary(durations, "call_")
    return {
        "value": rnd(n / elapsed, 1), "jobs_per_s": rnd(n / elapsed, 1), "elapsed_s": rnd(elapsed, 3),
        **{k: calls[k] for k in ("call_p50_ms", "call_p99_ms", "call_mean_ms")},
        "statements_per_call": stmts["client_statements_per_job"], "top_statements": stmts["top_statements"][:6],
    }


def enqueue_bulk(ctx: Ctx) -> dict:
    n = ctx.spec["n"]
    client = ctx.client
    client.enqueue_bulk(client.calls("noop", [{"i": -1 - k} for k in range(20)]))  # warm-up
    calls = client.calls("noop", [{"i": i} for i in range(n)])
    obs = ctx.observer()
    obs.reset_statements()
    with profile_self(ctx, "enqueue_bulk"):
        t0 = time.perf_counter()
        count = client.enqueue_bulk(calls)
        elapsed = time.perf_counter() - t0
    if count != n:
        raise RuntimeError(f"the bulk enqueue returned {count} results for {n} calls")
    stmts = statements_per(obs, 1)
    obs.close()
    return {"value": rnd(n / elapsed, 1), "jobs_per_s": rnd(n / elapsed, 1), "elapsed_s": rnd(elapsed, 3),
            "statements": stmts["client_statements_per_job"], "top_statements": stmts["top_statements"][:6]}


# -- drain -----------------------------------------------------------------------------


def drain(ctx: Ctx) -> dict:
    n, poll, timeout = ctx.spec["n"], ctx.spec["poll"], ctx.spec["timeout"]
    t0 = time.perf_counter()
    client = ctx.client
    if ctx.spec.get("sleep_ms"):
        client.enqueue_bulk(client.calls("sleep_ms", [{"i": i, "ms": ctx.spec["sleep_ms"]} for i in range(n)]))
    else:
        client.enqueue_bulk(client.calls("noop", [{"i": i} for i in range(n)]))
    pre_enqueue_s = time.perf_counter() - t0
    client.close()  # the measuring process keeps no connection open in the database
    close_django_connections()

    # Fresh planner statistics for the loaded tables. Without this, whether
    # autovacuum has analysed them before the runtime starts is a race; once
    # in six runs dj-queue's claim then ran a plan that took 216 s.
    with ctx.db() as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE %s",
            [ctx.system.table_prefix.replace("_", "\\_") + "%"]).fetchall()]
        conn.execute("ANALYZE " + ", ".join(f'"{t}"' for t in tables))

    obs = ctx.observer()
    wait_for_backends_to_exit(obs)
    obs.reset_statements()
    xacts_before = obs.xact_commit()
    conn = ctx.db()
    polls = 0
    if scalar(conn, ctx.system.done_sql) != 0:
        raise RuntimeError("jobs finished before the runtime started: is a stale runtime running?")
    polls += 1
    first_seen = last_seen = None
    spy_out = ctx.spy_path("drain")
    with ctx.runtime() as rt:
        spy = pyspy.start(rt.pid, spy_out, gil=ctx.spec.get("py_spy_gil", False)) if spy_out else None
        while True:
            done = scalar(conn, ctx.system.done_sql)
            polls += 1
            now = time.time()
            if done and first_seen is None:
                first_seen = now
                if spy:  # name the sampled processes: pid -> kind, while they are all up
                    kinds = {pid: kind for pid, kind in conn.execute(ctx.system.processes_sql).fetchall()}
                    polls += 1
                    pyspy.kinds_file(spy_out).write_text(json.dumps(kinds))
            if done >= n:
                last_seen = now
                break
            if now - rt.spawned_at > timeout:
                raise TimeoutError(f"drain timed out after {timeout}s with {done}/{n} done")
            rt.check()
            time.sleep(poll)
        stop = rt.stop()
        if spy:
            pyspy.finish(spy)
            ctx.notes.append(f"py-spy profile: {spy_out}")
    conn.close()
    wait_for_backends_to_exit(obs)
    xacts = obs.xact_commit() - xacts_before - polls - 1  # our polls, and our connection's own
    stmts = statements_per(obs, n)
    obs.close()

    with ctx.db() as conn:
        first, last = conn.execute(ctx.system.span_sql).fetchone()
        failed = scalar(conn, ctx.system.failed_sql)
    first_t, last_t = first.timestamp(), last.timestamp()
    steady = (n - 1) / (last_t - first_t) if last_t > first_t else None
    return {
        "value": rnd(steady, 1),
        "jobs_per_s_steady": rnd(steady, 1),
        "jobs_per_s_wall": rnd(n / (last_t - rt.spawned_at), 1),
        "startup_s": rnd(first_t - rt.spawned_at, 3),
        "drain_s": rnd(last_t - first_t, 3),
        # the same from the harness's polls (0.2 s resolution), as a cross-check
        "observed_wall_jobs_per_s": rnd(n / (last_seen - rt.spawned_at), 1),
        "observed_first_s": rnd(first_seen - rt.spawned_at, 3),
        "pre_enqueue_s": rnd(pre_enqueue_s, 3),
        "failed": failed,
        "xacts_per_job": rnd(xacts / n, 3),
        **stmts,
        "polls": polls,
        "runtime_log_bytes": rt.log_bytes(),
        **stop,
    }


# -- pickup latency ----------------------------------------------------------------------


def read_stamps(path: Path) -> dict[int, float]:
    out: dict[int, float] = {}
    try:
        text = path.read_text()
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            out.setdefault(int(parts[0]), float(parts[1]))
    return out


def wait_for_stamps(path: Path, wanted: set[int], rt: Runtime, timeout: float) -> dict[int, float]:
    deadline = time.monotonic() + timeout
    while True:
        stamps = read_stamps(path)
        if wanted <= stamps.keys():
            return stamps
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(wanted - stamps.keys())} of {len(wanted)} jobs never started")
        rt.check()
        time.sleep(0.05)


JOB_ARG = re.compile(r'i\\*"\s*:\s*(-?\d+)')


def latency(ctx: Ctx) -> dict:
    m, spacing = ctx.spec["m"], ctx.spec["spacing_ms"] / 1000.0
    client = ctx.client
    trace = ctx.spec.get("trace")
    obs = ctx.observer() if trace else None
    if obs:
        close_django_connections()  # the setting applies to sessions opened after it
        obs.log_statements(True)
    spy_out = ctx.spy_path("latency")
    spy = None
    try:
        with ctx.runtime() as rt:
            warm = [-1 - k for k in range(3)]
            for i in warm:
                client.enqueue("stamp", i=i)
            wait_for_stamps(ctx.stamps, set(warm), rt, 90)
            if spy_out:  # sample only the measured part, densely: the runtime is mostly asleep
                with ctx.db() as conn:
                    kinds = {pid: kind for pid, kind in conn.execute(ctx.system.processes_sql).fetchall()}
                spy_out.parent.mkdir(parents=True, exist_ok=True)
                pyspy.kinds_file(spy_out).write_text(json.dumps(kinds))
                spy = pyspy.start(rt.pid, spy_out, gil=ctx.spec.get("py_spy_gil", False), rate=1000)
            time.sleep(1.0)  # idle again
            log0 = obs.log_size() if obs else None
            before: dict[int, float] = {}
            call_s: list[float] = []
            due = time.perf_counter()
            for i in range(m):
                due += spacing
                t_wall, t = time.time(), time.perf_counter()
                client.enqueue("stamp", i=i)
                call_s.append(time.perf_counter() - t)
                before[i] = t_wall
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            stamps = wait_for_stamps(ctx.stamps, set(range(m)), rt, 60)
            log1 = obs.log_size() if obs else None
            stop = rt.stop()
            if spy:
                pyspy.finish(spy)
                ctx.notes.append(f"py-spy profile: {spy_out}")
    finally:
        if obs:
            obs.log_statements(False)
    lat = [stamps[i] - before[i] for i in range(m)]
    summary = ms_summary(lat)
    result = {
        "value": summary["p50_ms"], **summary,
        **{k: v for k, v in ms_summary([lat[i] - call_s[i] for i in range(m)], "after_return_").items()
           if k in ("after_return_p50_ms", "after_return_p99_ms")},
        "enqueue_call_p50_ms": ms_summary(call_s)["p50_ms"],
        "runtime_log_bytes": rt.log_bytes(), **stop,
    }
    if obs:
        statements = logged_statements(obs.read_log(log0, log1), ctx.dbname)
        obs.close()
        result.update(trace_phases(ctx.system, statements, before, call_s, stamps))
    return result


def trace_phases(system: System, statements, before: dict, call_s: list, stamps: dict) -> dict:
    """Split each job's pickup latency at the server-log times of its INSERT and of the claim after it.

    The log stamps a statement when the server starts it, to the millisecond.
    """
    inserts: dict[int, float] = {}
    claims: list[float] = []
    for ts, _pid, text in statements:
        if system.enqueue_marker in text:
            found = JOB_ARG.search(text)
            if found:
                inserts.setdefault(int(found.group(1)), ts)
        elif system.claim_marker in text:
            claims.append(ts)
    claims.sort()
    phases: dict[str, list[float]] = {"to_insert": [], "insert_to_return": [], "return_to_claim": [],
                                      "claim_to_start": []}
    for i, t0 in before.items():
        t_insert = inserts.get(i)
        if t_insert is None:
            continue
        t_return = t0 + call_s[i]
        t_claim = next((c for c in claims if c >= t_insert), None)
        if t_claim is None or t_claim > stamps[i]:
            continue
        phases["to_insert"].append(t_insert - t0)
        phases["insert_to_return"].append(t_return - t_insert)
        phases["return_to_claim"].append(t_claim - t_return)
        phases["claim_to_start"].append(stamps[i] - t_claim)
    out = {"trace_jobs": len(phases["to_insert"])}
    for name, values in phases.items():
        out[f"trace_{name}_p50_ms"] = ms_summary(values)["p50_ms"] if values else None
    return out


# -- idle cost ----------------------------------------------------------------------------


def _runtime_processes(ctx: Ctx) -> dict[int, str]:
    with ctx.db() as conn:
        return {pid: kind.lower() for pid, kind in conn.execute(ctx.system.processes_sql).fetchall()}


def idle(ctx: Ctx) -> dict:
    settle, window = ctx.spec["settle"], ctx.spec["window"]
    want_workers = ctx.spec["processes"]
    close_django_connections()
    obs = ctx.observer()
    obs.log_statements(True)
    try:
        with ctx.runtime() as rt:
            deadline = time.monotonic() + 60
            while True:  # up: every worker process has registered
                kinds = _runtime_processes(ctx)
                if sum(1 for k in kinds.values() if k == "worker") >= want_workers:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"runtime not up after 60 s: {kinds}")
                rt.check()
                time.sleep(0.2)
            time.sleep(settle)
            backends = obs.backends()
            log0 = obs.log_size()
            calls0, xacts0, t0 = obs.statement_calls(), obs.xact_commit(), time.monotonic()
            time.sleep(window)
            calls1, xacts1, t1 = obs.statement_calls(), obs.xact_commit(), time.monotonic()
            log1 = obs.log_size()
            backends.update(obs.backends())
            owners = client_ports_by_process(rt.pid, ctx.server.port)
            kinds = _runtime_processes(ctx)
            kinds.setdefault(rt.pid, "supervisor")
            stop = rt.stop()
    finally:
        obs.log_statements(False)
    elapsed = t1 - t0
    result = {
        "value": rnd((calls1 - calls0) / elapsed, 2),
        "statements_per_s": rnd((calls1 - calls0) / elapsed, 2),
        # pending statistics of idle backends are flushed late: an estimate only
        "xacts_per_s_approx": rnd((xacts1 - xacts0) / elapsed, 2),
        "window_s": rnd(elapsed, 2),
        "connections": len(backends),
        **stop,
    }
    if log0 is None or log1 is None:
        ctx.notes.append("no server log readable: per-process breakdown skipped")
        result["per_worker_process_per_s"] = rnd(result["statements_per_s"] / want_workers, 2)
        result["per_worker_basis"] = "total / worker processes"
        obs.close()
        return result
    per_pid, per_text = count_logged_statements(obs.read_log(log0, log1), ctx.dbname)
    obs.close()
    by_kind: dict[str, float] = {}
    processes_of_kind: dict[str, set[int]] = {}
    for backend_pid, count in per_pid.items():
        port = backends.get(backend_pid)
        os_pid = owners.get(port) if port is not None else None
        kind = kinds.get(os_pid, "unattributed") if os_pid is not None else "unattributed"
        by_kind[kind] = by_kind.get(kind, 0) + count
        if os_pid is not None:
            processes_of_kind.setdefault(kind, set()).add(os_pid)
    for os_pid, kind in kinds.items():
        processes_of_kind.setdefault(kind, set()).add(os_pid)
    workers = len(processes_of_kind.get("worker", ())) or want_workers
    result.update({
        "logged_statements_per_s": rnd(sum(per_pid.values()) / elapsed, 2),
        "per_kind_per_s": {k: rnd(v / elapsed, 2) for k, v in sorted(by_kind.items())},
        "processes": {k: len(v) for k, v in sorted(processes_of_kind.items())},
        "per_worker_process_per_s": rnd(by_kind.get("worker", 0) / elapsed / workers, 2),
        "per_worker_basis": "server log, connections mapped to worker processes",
        "top_statements_per_s": {k: rnd(v / elapsed, 2) for k, v in
                                 sorted(per_text.items(), key=lambda kv: -kv[1])[:8]},
    })
    return result


SCENARIOS = {
    "enqueue_single": enqueue_single,
    "enqueue_bulk": enqueue_bulk,
    "drain": drain,
    "latency": latency,
    "idle": idle,
}
