"""One full refresh of the dashboard's Overview, Queues and Jobs screens with 1,000,000 jobs in PostgreSQL.

Fills its own database with ``benchmarks/readpaths.py``'s data set
(1,000,000 finished, 100,000 failed, 50,000 ready and 10,000 scheduled
jobs over 20 queues and 200 task paths, 24 hours of the throughput
rollup), then runs the real app headless (Textual's ``run_test``) and times,
for each screen, one refresh as the app does it: the read in a worker
thread through the data source (connection opened and closed by the
source, as in the app), plus applying the result to the screen's widgets
on the event loop ("show"). Median and worst of 7 refreshes, after one
warm-up. The compositor's paint of the frame that follows is reported
beside it ("paint"; Textual paints only the regions that changed).

The Jobs screen is timed on the ready tab, the failed tab, the failed tab
filtered by a rare exception class (0.1% of the failed jobs), and the
finished tab; each shows a page of 50 with its capped count. Target: under
300 ms each.

    .venv/bin/python benchmarks/tui_refresh.py [--db postgresql://postgres@127.0.0.1:5432/postgres] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

RUNS = 7
TARGET_MS = 300.0


async def measure() -> dict[str, dict[str, float]]:
    from djq_cli.tui.app import DjqApp
    from djq_cli.tui.data import JobFilters, OpsSource

    source = OpsSource("default")
    app = DjqApp(source, where="benchmark", interval=3600)
    results: dict[str, dict[str, float]] = {}
    cases = [("overview", "1", None, None), ("queues", "2", None, None), ("jobs: ready", "3", "ready", None),
             ("jobs: failed", "3", "failed", None),
             ("jobs: failed, exception RareError", "3", "failed", JobFilters(exception="RareError")),
             ("jobs: finished", "3", "finished", None)]
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        for name, key, state, filters in cases:
            await pilot.press(key)
            await pilot.pause()
            screen = app.screen
            if state is not None:
                screen.goto(state, filters or JobFilters())
                await pilot.pause()
            await app.workers.wait_for_complete()
            read_ms, show_ms, paint_ms = [], [], []
            for run in range(RUNS + 1):
                params = screen.params()
                started = time.perf_counter()
                data = await asyncio.to_thread(source.run, lambda p=params, s=screen: s.fetch(source, p))
                fetched = time.perf_counter()
                with app.batch_update():
                    screen.show(data)
                shown = time.perf_counter()
                await pilot.pause()  # lets the compositor paint the frame
                painted = time.perf_counter()
                if run:  # the first one warms caches and the connection path
                    read_ms.append((fetched - started) * 1000)
                    show_ms.append((shown - fetched) * 1000)
                    paint_ms.append((painted - shown) * 1000)
            total = [r + s for r, s in zip(read_ms, show_ms, strict=True)]
            results[name] = {"read_ms": statistics.median(read_ms), "show_ms": statistics.median(show_ms),
                             "paint_ms": statistics.median(paint_ms), "total_ms": statistics.median(total),
                             "worst_ms": max(total)}
        await pilot.press("q")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_ADMIN_DB", "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="an admin connection URL (the benchmark creates and drops its own database)")
    parser.add_argument("--keep", action="store_true", help="keep the filled database (its name is printed)")
    parser.add_argument("--reuse", metavar="NAME", help="time a database kept by an earlier --keep")
    options = parser.parse_args()

    import readpaths

    name = options.reuse or f"djq_tui_bench_{uuid.uuid4().hex[:8]}"
    if not options.reuse:
        readpaths.admin(options.db, f"CREATE DATABASE {name}")
    url = readpaths.with_db(options.db, name)
    try:
        readpaths.setup_django(url)
        if not options.reuse:
            print(f"filling {name} ...", file=sys.stderr)
            print(f"filled in {readpaths.fill(url):.1f}s", file=sys.stderr)
        results = asyncio.run(measure())
    finally:
        from django.db import connections

        connections.close_all()
        if options.keep or options.reuse:
            print(f"kept database {name}", file=sys.stderr)
        else:
            readpaths.admin(options.db, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    width = max(len(n) for n in results)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'screen':<{width}}  read ms  show ms  total ms  worst ms  (paint ms)")
    failed = False
    for screen, r in results.items():
        ok = r["worst_ms"] < TARGET_MS
        failed |= not ok
        print(f"{screen:<{width}}  {r['read_ms']:7.1f}  {r['show_ms']:7.1f}  {r['total_ms']:8.1f}  {r['worst_ms']:8.1f}"
              f"  ({r['paint_ms']:6.1f})  {'ok' if ok else 'OVER ' + str(TARGET_MS)}")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"tui_refresh-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
