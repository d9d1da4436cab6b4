"""Tables from result lines: medians [min-max] per system, djq / dj-queue ratios, target verdicts."""

from __future__ import annotations

import statistics
from collections import defaultdict

REFERENCE = "dj_queue"  # ratios are djq / dj-queue
OURS = "djq"

# scenario -> [(field, label, higher is better)]
METRICS = {
    "enqueue_single": [
        ("jobs_per_s", "jobs/s", True),
        ("call_p50_ms", "call p50 ms", False),
        ("call_p99_ms", "call p99 ms", False),
        ("statements_per_call", "statements/call", False),
    ],
    "enqueue_bulk": [
        ("jobs_per_s", "jobs/s", True),
        ("elapsed_s", "seconds", False),
        ("statements", "statements (whole call)", False),
    ],
    "drain": [
        ("jobs_per_s_steady", "steady jobs/s (first->last done)", True),
        ("jobs_per_s_wall", "wall jobs/s (from spawn)", True),
        ("startup_s", "spawn -> first done s", False),
        ("xacts_per_job", "transactions/job", False),
        ("client_statements_per_job", "statements/job sent by clients", False),
        ("statements_per_job_no_tx", "  of which not BEGIN/COMMIT", False),
        ("fk_checks_per_job", "deferred FK checks/job (server)", False),
        ("server_ms_per_job", "server exec ms/job", False),
        ("stop_s", "SIGTERM -> exit s", False),
    ],
    "latency": [
        ("p50_ms", "pickup p50 ms", False),
        ("p95_ms", "pickup p95 ms", False),
        ("p99_ms", "pickup p99 ms", False),
        ("max_ms", "pickup max ms", False),
        ("after_return_p50_ms", "p50 from enqueue() return ms", False),
        ("enqueue_call_p50_ms", "enqueue call p50 ms", False),
        ("trace_to_insert_p50_ms", "trace: before call -> INSERT p50", False),
        ("trace_insert_to_return_p50_ms", "trace: INSERT -> call returns p50", False),
        ("trace_return_to_claim_p50_ms", "trace: call returned -> claim p50", False),
        ("trace_claim_to_start_p50_ms", "trace: claim -> job starts p50", False),
    ],
    "idle": [
        ("statements_per_s", "statements/s total", False),
        ("per_worker_process_per_s", "statements/s per worker process", False),
        ("xacts_per_s_approx", "transactions/s (approx.)", False),
        ("connections", "connections", False),
    ],
}

TITLES = {
    "enqueue_single": "1a. enqueue, single: N sequential task.enqueue()",
    "enqueue_bulk": "1b. enqueue, bulk: one backend.enqueue_all() of N",
    "drain": "2+4. drain of N pre-enqueued no-op jobs (and statements/transactions per job)",
    "latency": "3. pickup latency, idle runtime, LISTEN/NOTIFY on",
    "idle": "5. idle cost (runtime up, no jobs)",
}


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def _cell(values: list[float]) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return _fmt(med)
    return f"{_fmt(med)} [{_fmt(min(values))}-{_fmt(max(values))}]"


def _group_key(r: dict) -> tuple:
    return (r["scenario"], r.get("topology", ""), str(r.get("n", "")), r.get("label", ""))


def group(results: list[dict]) -> dict[tuple, dict[str, list[dict]]]:
    groups: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        if r.get("ok") and "skipped" not in r:
            groups[_group_key(r)][r["system"]].append(r)
    return groups


def median_of(rows: list[dict], field: str) -> float | None:
    vals = [r[field] for r in rows if isinstance(r.get(field), (int, float))]
    return statistics.median(vals) if vals else None


def scenario_tables(results: list[dict]) -> str:
    out = []
    groups = group(results)
    order = list(METRICS)
    for key in sorted(groups, key=lambda k: (order.index(k[0]) if k[0] in order else 99, k[1:])):
        scenario, topo, n, label = key
        if scenario not in METRICS:
            continue
        by_system = groups[key]
        systems = [s for s in (OURS, REFERENCE) if s in by_system] + sorted(
            s for s in by_system if s not in (OURS, REFERENCE))
        head = TITLES.get(scenario, scenario)
        cfg = []
        if scenario in ("drain", "latency", "idle"):
            cfg.append(f"workers {topo}")
        if scenario in ("enqueue_single", "enqueue_bulk", "drain"):
            cfg.append(f"N={int(n):,}")
        if label:
            cfg.append(label)
        runs = ", ".join(f"{s} x{len(by_system[s])}" for s in systems)
        out.append(f"\n## {head}  ({'; '.join(cfg)}; runs: {runs})")
        width = 34
        header = f"  {'metric':<{width}}" + "".join(f" | {s:<24}" for s in systems)
        if OURS in by_system and REFERENCE in by_system:
            header += " | djq/dj-queue"
        out.append(header)
        for field, name, _higher in METRICS[scenario]:
            cells = [[r[field] for r in by_system[s] if isinstance(r.get(field), (int, float))] for s in systems]
            if not any(cells):
                continue
            line = f"  {name:<{width}}" + "".join(f" | {_cell(c):<24}" for c in cells)
            if OURS in by_system and REFERENCE in by_system:
                a, b = median_of(by_system[OURS], field), median_of(by_system[REFERENCE], field)
                line += f" | x{a / b:.2f}" if a is not None and b else " | -"
            out.append(line)
        loads = []
        for s in systems:
            vals = [v for r in by_system[s] for v in r.get("loadavg", [])]
            if vals:
                loads.append(f"{s} {min(vals):.2f}-{max(vals):.2f}")
        out.append(f"  load average (1 min, before/after each run): {'; '.join(loads)}")
        if scenario == "drain":
            failed = {s: sum(r.get("failed", 0) or 0 for r in by_system[s]) for s in systems}
            logs = {s: max(r.get("runtime_log_bytes", 0) for r in by_system[s]) for s in systems}
            out.append(f"  failed jobs: {failed}; largest runtime log (bytes): {logs}")
        if scenario == "idle":
            for s in systems:
                r = by_system[s][-1]
                if r.get("per_kind_per_s"):
                    out.append(f"  {s} (last run) statements/s by process kind: {r['per_kind_per_s']}"
                               f" processes: {r.get('processes')}")
                    out.append(f"      most frequent: {r.get('top_statements_per_s')}")
    return "\n".join(out)


def statements_detail(results: list[dict]) -> str:
    """Per-job statement mix of the last drain run of each (system, topology)."""
    last: dict[tuple, dict] = {}
    for r in results:
        if r.get("ok") and r["scenario"] == "drain" and r.get("top_statements"):
            last[(r["topology"], r["system"])] = r
    if not last:
        return ""
    out = ["\n## 4. statement mix per job during a drain (last run of each; pg_stat_statements, observer excluded)"]
    for (topo, system), r in sorted(last.items()):
        out.append(f"  {system} {topo} N={r['n']:,}: {r['client_statements_per_job']} client statements/job"
                   f" ({r['statements_per_job_no_tx']} without BEGIN/COMMIT; + {r['fk_checks_per_job']} deferred"
                   f" FK checks), {r['xacts_per_job']} transactions/job,"
                   f" {r['server_ms_per_job']} ms server time/job")
        for s in r["top_statements"][:10]:
            out.append(f"    {s['per_job']:>7.3f}/job  {s['mean_ms']:>8.4f} ms  {s['query'][:150]}")
    return "\n".join(out)


def claim_table(results: list[dict]) -> str:
    rows = [r for r in results if r.get("ok") and r["scenario"] == "claim" and "sizes" in r]
    if not rows:
        return ""
    r = rows[-1]
    out = [f"\n## 6. djq claim of 10 jobs vs ready backlog ({r['reps']} timed claims per size, each rolled back)",
           f"  {'ready rows':>12} | {'client p50 ms':>13} | {'p10-p90 ms':>13} | {'server exec p50 ms':>18} |"
           f" walks djq_job_ready | Sort nodes | plan"]
    for s in r["sizes"]:
        out.append(f"  {s['ready_rows']:>12,} | {s['claim_p50_ms']:>13.3f} |"
                   f" {s['claim_p10_ms']:>5.3f}-{s['claim_p90_ms']:<7.3f} | {s['server_exec_p50_ms']:>18.3f} |"
                   f" {'yes' if s['walks_djq_job_ready'] else 'NO':<19} | {len(s['sort_nodes']):>10} |"
                   f" {s['plan_file'].rsplit('/', 1)[-1]}")
    out.append(f"  growth 1st->last size: client x{r['growth_client']}, server x{r['growth_server']};"
               f" plans walk djq_job_ready without Sort: {r['plans_ok']}; load {r.get('loadavg')}")
    return "\n".join(out)


def _ratio(groups, scenario, field, topo=None, reference=None):
    reference = reference or REFERENCE
    for key, by_system in groups.items():
        if key[0] == scenario and (topo is None or key[1] == topo) and OURS in by_system and reference in by_system:
            a, b = median_of(by_system[OURS], field), median_of(by_system[reference], field)
            if a is not None and b:
                return a / b, a, b
    return None


def paired(groups, scenario, field, topo=None, reference=None) -> str:
    """Ratios within each repetition (the two systems ran back to back): median [min-max]."""
    reference = reference or REFERENCE
    for key, by_system in groups.items():
        if key[0] == scenario and (topo is None or key[1] == topo) and OURS in by_system and reference in by_system:
            ours = {r.get("rep"): r.get(field) for r in by_system[OURS]}
            ref = {r.get("rep"): r.get(field) for r in by_system[reference]}
            ratios = [ours[k] / ref[k] for k in ours if k in ref and ours[k] and ref[k]]
            if ratios:
                return f"; per repetition x{statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]"
    return ""


def _ours(groups, scenario, field):
    for key, by_system in groups.items():
        if key[0] == scenario and OURS in by_system:
            return median_of(by_system[OURS], field)
    return None


def targets(results: list[dict]) -> str:
    groups = group(results)
    out = ["\n## targets (medians)"]

    def ratio_line(name, found, extra="", need=3.0, peer="dj-queue"):
        if found is None:
            return
        ratio, a, b = found
        verdict = "MET" if ratio >= need else f"MISSED by {100 * (1 - ratio / need):.0f}% (needs x{need:g})"
        out.append(f"  {name:<44} djq {_fmt(a)} vs {peer} {_fmt(b)} = x{ratio:.2f}  {verdict}{extra}")

    def limit_line(name, value, limit, unit):
        if value is None:
            return
        verdict = "MET" if value <= limit else (
            f"MISSED by {_fmt(value - limit)} {unit} (x{value / limit:.2f} the limit)")
        out.append(f"  {name:<44} djq {_fmt(value)} {unit}  {verdict}")

    # issue 11's targets
    for topo, need in (("1x8", 10.0), ("2x4", 8.0)):
        ratio_line(f"drain steady >= {need:g}x dj-queue, {topo}",
                   _ratio(groups, "drain", "jobs_per_s_steady", topo),
                   paired(groups, "drain", "jobs_per_s_steady", topo), need=need)
    ratio_line("drain steady >= 1.5x pgqueuer, 1x8", _ratio(groups, "drain", "jobs_per_s_steady", "1x8", "pgqueuer"),
               paired(groups, "drain", "jobs_per_s_steady", "1x8", "pgqueuer"), need=1.5, peer="pgqueuer")
    ratio_line("bulk enqueue >= 1.0x pgqueuer", _ratio(groups, "enqueue_bulk", "jobs_per_s", None, "pgqueuer"),
               paired(groups, "enqueue_bulk", "jobs_per_s", None, "pgqueuer"), need=1.0, peer="pgqueuer")
    bulk = _ours(groups, "enqueue_bulk", "jobs_per_s")
    if bulk is not None:
        out.append(f"  {'bulk enqueue >= 30,000 jobs/s':<44} djq {_fmt(bulk)} jobs/s  "
                   + ("MET" if bulk >= 30000 else f"MISSED (x{bulk / 30000:.2f})"))
    ratio_line("single enqueue >= 5x dj-queue", _ratio(groups, "enqueue_single", "jobs_per_s"),
               paired(groups, "enqueue_single", "jobs_per_s"), need=5.0)
    limit_line("pickup latency p50 <= 3 ms", _ours(groups, "latency", "p50_ms"), 3.0, "ms")
    limit_line("pickup latency p99 <= 15 ms", _ours(groups, "latency", "p99_ms"), 15.0, "ms")
    for key, by_system in groups.items():
        if key[0] == "drain" and key[1] == "1x8" and OURS in by_system:
            limit_line("statements per job while draining <= 0.05",
                       median_of(by_system[OURS], "client_statements_per_job"), 0.05, "statements/job")
            break
    limit_line("idle <= 1 statement/s per worker process",
               _ours(groups, "idle", "per_worker_process_per_s"), 1.0, "statements/s")
    claims = [r for r in results if r.get("ok") and r["scenario"] == "claim" and "sizes" in r]
    if claims:
        r = claims[-1]
        flat = r["growth_client"] <= 1.5 and r["growth_server"] <= 1.5 and r["plans_ok"]
        out.append(f"  {'claim time flat from 1k to 1M ready rows':<44} x{r['growth_client']} client,"
                   f" x{r['growth_server']} server, index plan ok={r['plans_ok']}  "
                   f"{'MET' if flat else 'MISSED'}"
                   " (flat = client and server time grow at most x1.5, djq_job_ready walked, no Sort)")
    return "\n".join(out)


def failures(results: list[dict]) -> str:
    lines = []
    for r in results:
        if not r.get("ok"):
            lines.append(f"FAILED {r['scenario']} {r['system']} {r.get('topology')} rep {r.get('rep')}:"
                         f" {r.get('error', '')[:400]}")
        elif "skipped" in r:
            lines.append(f"skipped {r['scenario']} {r['system']}: {r['skipped']}")
    return ("\n" + "\n".join(lines)) if lines else ""


def versions(results: list[dict]) -> str:
    seen = {}
    for r in results:
        for k, v in (r.get("versions") or {}).items():
            seen[k] = v
    return ", ".join(f"{k} {v}" for k, v in seen.items())


def full_report(results: list[dict]) -> str:
    parts = [f"versions: {versions(results)}", scenario_tables(results), statements_detail(results),
             claim_table(results), targets(results), failures(results)]
    return "\n".join(p for p in parts if p)
