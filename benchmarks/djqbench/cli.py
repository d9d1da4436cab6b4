"""Command line: one command per scenario, plus ``all``; each run interleaves the systems.

Every measurement is a fresh child process (``bench.py _child SPEC``). On each
repetition the order of the systems is rotated, so neither always runs first
on a machine whose load drifts.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import pyspy, report
from .systems import SYSTEMS

HERE = Path(__file__).resolve().parent.parent  # benchmarks/
BENCH = HERE / "bench.py"
DEFAULT_DB = "postgresql://postgres@127.0.0.1:55432/djqbench"


def parse_opts(items: list[str] | None) -> dict:
    """--opt KEY=VALUE (VALUE as JSON when it parses) -> extra TASKS OPTIONS for both systems."""
    out = {}
    for item in items or []:
        key, _, value = item.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def topology(text: str) -> tuple[int, int]:
    p, _, w = text.lower().partition("x")
    return int(p), int(w)


def run_child(spec: dict) -> dict:
    limit = spec.get("timeout", 900) + 300
    proc = subprocess.Popen([sys.executable, str(BENCH), "_child", json.dumps(spec)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.terminate()  # the child stops its runtime on SIGTERM
        try:
            out, err = proc.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
    for line in reversed(out.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"scenario": spec["scenario"], "system": spec["system"], "rep": spec.get("rep"),
            "topology": f"{spec['processes']}x{spec['threads']}", "n": spec.get("n"), "ok": False,
            "error": f"child exited {proc.returncode} without a result: {err[-1500:]}"}


def _progress(r: dict) -> str:
    if not r.get("ok"):
        return f"FAILED: {r.get('error', '')[:300]}"
    if "skipped" in r:
        return f"skipped: {r['skipped']}"
    keys = {"enqueue_single": ("jobs_per_s", "call_p50_ms"), "enqueue_bulk": ("jobs_per_s",),
            "drain": ("jobs_per_s_steady", "jobs_per_s_wall", "client_statements_per_job", "xacts_per_job"),
            "latency": ("p50_ms", "p99_ms"), "idle": ("statements_per_s", "per_worker_process_per_s"),
            "claim": ("growth_client", "plans_ok")}.get(r["scenario"], ("value",))
    return " ".join(f"{k}={r.get(k)}" for k in keys) + f" load={r.get('loadavg')}"


def source_state() -> str:
    """The djq checkout being measured: commit, and how many djq files differ from it."""
    repo = HERE.parent
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "djq", "djq_cli"],
                               capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{repo} at {head}" + (f" + {len(dirty)} uncommitted changes in djq/, djq_cli/" if dirty else "")


class Session:
    """One command's runs: the JSON lines file, and the printed summary at the end."""

    def __init__(self, args, command: str) -> None:
        self.args = args
        self.results: list[dict] = []
        stamp = time.strftime("%Y%m%d-%H%M%S")
        results_dir = Path(args.results_dir)
        results_dir.mkdir(parents=True, exist_ok=True)
        self.jsonl = Path(args.out) if args.out else results_dir / f"{command}-{stamp}.jsonl"
        self.summary = results_dir / f"{command}-{stamp}.summary.txt"
        self.command = command
        self.source = source_state()

    def base_spec(self) -> dict:
        a = self.args
        return {"db": a.db, "conn_max_age": a.conn_max_age, "polling_interval": 0.1, "options": parse_opts(a.opt),
                "py_spy": os.path.abspath(a.py_spy) if a.py_spy else None, "py_spy_gil": a.py_spy_gil,
                "keep": a.keep, "label": a.label, "djq_logging": a.djq_logging,
                "timeout": a.timeout, "results_dir": os.path.abspath(a.results_dir)}

    def run(self, plan: list[dict], systems: list[str], repeat: int) -> None:
        """Each repetition: every planned configuration, systems in a rotated order."""
        for rep in range(repeat):
            shift = rep % len(systems)
            order = systems[shift:] + systems[:shift]
            for item in plan:
                for system in order if item.get("scenario") != "claim" else ["djq"]:
                    spec = {**self.base_spec(), **item, "system": system, "rep": rep + 1}
                    t = time.monotonic()
                    print(f"[rep {rep + 1}/{repeat}] {spec['scenario']:<15} {system:<9}"
                          f" {spec['processes']}x{spec['threads']} ...", end=" ", flush=True)
                    r = run_child(spec)
                    print(f"{time.monotonic() - t:5.1f}s  {_progress(r)}", flush=True)
                    self.results.append(r)
                    with open(self.jsonl, "a") as fh:
                        fh.write(json.dumps(r, default=str) + "\n")

    def finish(self) -> int:
        text = report.full_report(self.results)
        header = (f"djq benchmarks: {self.command}  ({time.strftime('%Y-%m-%d %H:%M:%S')}, "
                  f"{os.cpu_count()} cpus, db {self.args.db}, CONN_MAX_AGE={self.args.conn_max_age})\n"
                  f"djq source: {self.source}\n"
                  f"command: {' '.join(sys.argv)}\nresult lines: {self.jsonl}")
        full = header + "\n" + text + "\n"
        self.summary.write_text(full)
        print("\n" + full)
        print(f"summary written to {self.summary}")
        return 0 if all(r.get("ok") for r in self.results) else 1


# -- plans per command ------------------------------------------------------------------


def plan_enqueue(a) -> list[dict]:
    return [
        {"scenario": "enqueue_single", "n": a.n_single, "processes": 1, "threads": 8},
        {"scenario": "enqueue_bulk", "n": a.n_bulk, "processes": 1, "threads": 8},
    ]


def plan_drain(a) -> list[dict]:
    out = []
    for t in a.topologies.split(","):
        p, w = topology(t)
        out.append({"scenario": "drain", "n": a.n, "processes": p, "threads": w, "poll": a.poll,
                    "sleep_ms": a.sleep_ms, "prefetch": a.prefetch})
    return out


def plan_latency(a) -> list[dict]:
    p, w = topology(a.topology)
    return [{"scenario": "latency", "m": a.m, "spacing_ms": a.spacing_ms, "processes": p, "threads": w,
             "options": {"listen_notify": True, **parse_opts(a.opt)}, "trace": getattr(a, "trace", False)}]


def plan_idle(a) -> list[dict]:
    p, w = topology(a.topology)
    return [{"scenario": "idle", "settle": a.settle, "window": a.window, "processes": p, "threads": w}]


def plan_claim(a) -> list[dict]:
    return [{"scenario": "claim", "sizes": [int(s) for s in a.sizes.split(",")], "reps": a.reps,
             "processes": 1, "threads": 1}]


def cmd_scenario(a, command: str, plans) -> int:
    systems = [s.strip() for s in a.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise SystemExit(f"unknown systems {unknown}; choose from {sorted(SYSTEMS)}")
    session = Session(a, command)
    plan = [item for make in plans for item in make(a)]
    session.run(plan, systems, 1 if command == "claim" else a.repeat)
    return session.finish()


def cmd_all(a) -> int:
    """Everything, interleaved per repetition; claim once at the end (djq only)."""
    systems = [s.strip() for s in a.systems.split(",") if s.strip()]
    session = Session(a, "all")
    plan = plan_enqueue(a) + plan_drain(a) + plan_latency(a) + plan_idle(a)
    session.run(plan, systems, a.repeat)
    session.run(plan_claim(a), systems, 1)
    return session.finish()


def cmd_summarize(a) -> int:
    results = []
    for path in a.files:
        with open(path) as fh:
            results.extend(json.loads(line) for line in fh if line.strip().startswith("{"))
    print(report.full_report(results))
    return 0


def cmd_pyspy_top(a) -> int:
    if a.focus:
        print(pyspy.focus(Path(a.file), a.focus, depth=a.depth, process_filter=a.process, limit=a.limit))
    else:
        print(pyspy.top(Path(a.file), limit=a.limit, process_filter=a.process))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_child"]:
        from .child import main as child_main

        return child_main(argv[1])

    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("common")
    g.add_argument("--db", default=os.environ.get("BENCH_DB", DEFAULT_DB),
                   help="server and base name; each system uses <base>_<system> (env BENCH_DB)")
    g.add_argument("--systems", default="djq,dj_queue", help="comma list (default djq,dj_queue)")
    g.add_argument("--djq-logging", choices=("default", "quiet"), default="default",
                   help="djq's runtime logging: `djq start`'s own (default) or none below WARNING;"
                   " the other systems always run quiet")
    g.add_argument("--repeat", type=int, default=3, help="repetitions, systems rotated each time")
    g.add_argument("--conn-max-age", type=int, default=60, help="Django CONN_MAX_AGE for both systems")
    g.add_argument("--results-dir", default=str(HERE / "results"))
    g.add_argument("--out", help="JSON lines file (default results/<command>-<time>.jsonl)")
    g.add_argument("--py-spy", metavar="DIR", help="record py-spy profiles (runtime for drain, client for enqueue)")
    g.add_argument("--py-spy-gil", action="store_true", help="py-spy --gil: only samples holding the GIL")
    g.add_argument("--timeout", type=float, default=900.0, help="per-measurement limit, seconds")
    g.add_argument("--label", default="", help="free-form tag stored with each result")
    g.add_argument("--opt", action="append", metavar="KEY=VALUE",
                   help="extra TASKS OPTIONS entry for both systems (JSON value), e.g. --opt listen_notify=false")
    g.add_argument("--keep", action="store_true", help="keep each measurement's generated project")

    def enqueue_opts(p):
        p.add_argument("--n-single", type=int, default=2000, help="single enqueue: calls")
        p.add_argument("--n-bulk", type=int, default=20000, help="bulk enqueue: jobs in one enqueue_all()")

    def drain_opts(p, n=20000, topologies="1x8,2x4"):
        p.add_argument("-N", "--n", type=int, default=n, help="jobs to drain")
        p.add_argument("--topologies", default=topologies, help="comma list of PROCESSESxTHREADS")
        p.add_argument("--poll", type=float, default=0.2, help="progress poll interval, seconds")
        p.add_argument("--prefetch", type=int, default=0,
                       help="djq only: the workers' prefetch_multiplier (default: djq's default)")
        p.add_argument("--sleep-ms", type=float, default=0,
                       help="jobs sleep this long (I/O-bound) instead of being no-ops")

    def latency_opts(p):
        p.add_argument("-M", "--m", type=int, default=200, help="jobs, enqueued one at a time")
        p.add_argument("--spacing-ms", type=float, default=20.0)

    def idle_opts(p):
        p.add_argument("--settle", type=float, default=5.0, help="seconds after start-up before counting")
        p.add_argument("--window", type=float, default=20.0, help="seconds counted")

    def claim_opts(p):
        p.add_argument("--sizes", default="1000,10000,100000,1000000", help="ready rows, comma list")
        p.add_argument("--reps", type=int, default=300, help="timed claims per size")

    parser = argparse.ArgumentParser(prog="bench.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("enqueue", parents=[common], help="1. single and bulk enqueue")
    enqueue_opts(p)
    p.set_defaults(func=lambda a: cmd_scenario(a, "enqueue", [plan_enqueue]))
    p = sub.add_parser("drain", parents=[common], help="2. drain throughput (and 4. statements per job)")
    drain_opts(p)
    p.set_defaults(func=lambda a: cmd_scenario(a, "drain", [plan_drain]))
    p = sub.add_parser("statements", parents=[common], help="4. statements/transactions per job during a drain")
    drain_opts(p, n=5000, topologies="1x8")
    p.set_defaults(func=lambda a: cmd_scenario(a, "statements", [plan_drain]))
    p = sub.add_parser("latency", parents=[common], help="3. pickup latency on an idle runtime")
    latency_opts(p)
    p.add_argument("--topology", default="1x8")
    p.add_argument("--trace", action="store_true",
                   help="diagnosis: log every statement and split latency at the INSERT and the claim")
    p.set_defaults(func=lambda a: cmd_scenario(a, "latency", [plan_latency]))
    p = sub.add_parser("idle", parents=[common], help="5. statements per second of an idle runtime")
    idle_opts(p)
    p.add_argument("--topology", default="1x8")
    p.set_defaults(func=lambda a: cmd_scenario(a, "idle", [plan_idle]))
    p = sub.add_parser("claim", parents=[common], help="6. djq claim time vs ready backlog, with plans")
    claim_opts(p)
    p.set_defaults(func=lambda a: cmd_scenario(a, "claim", [plan_claim]))
    p = sub.add_parser("all", parents=[common], help="every scenario, interleaved per repetition")
    enqueue_opts(p)
    drain_opts(p)
    latency_opts(p)
    idle_opts(p)
    claim_opts(p)
    p.add_argument("--topology", default="1x8", help="latency and idle worker shape")
    p.set_defaults(func=cmd_all)
    p = sub.add_parser("summarize", help="tables again from saved JSON lines")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_summarize)
    p = sub.add_parser("pyspy-top", help="top functions of a py-spy raw profile")
    p.add_argument("file")
    p.add_argument("--process", help="only processes whose py-spy label contains this text")
    p.add_argument("--limit", type=int, default=25)
    p.add_argument("--focus", metavar="FUNCTION", help="break the samples under this function down by callee,"
                   " e.g. --focus 'execute' or --focus 'Worker.cycle'")
    p.add_argument("--depth", type=int, default=1, help="with --focus: callee levels shown")
    p.set_defaults(func=cmd_pyspy_top)
    args = parser.parse_args(argv)
    return args.func(args)
