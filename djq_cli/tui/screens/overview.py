"""Overview: totals by state, throughput over the last hour, processes, paused and busiest queues."""

from __future__ import annotations

from datetime import timedelta

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Sparkline, Static

from .. import format as fmt
from ..data import Minute, Overview
from ..widgets import KeyedTable
from .base import DataScreen

TOTALS = ("ready", "scheduled", "claimed", "blocked", "failed")
KINDS = ("supervisor", "worker", "dispatcher", "scheduler")


def minutes(throughput: tuple[Minute, ...], now, n: int = 60) -> tuple[list[int], list[int]]:
    """The last ``n`` minutes, oldest first, with empty minutes as zeros."""
    by_minute = {m.at.replace(second=0, microsecond=0): m for m in throughput}
    end = now.replace(second=0, microsecond=0)
    finished, failed = [], []
    for i in range(n - 1, -1, -1):
        m = by_minute.get(end - timedelta(minutes=i))
        finished.append(m.finished if m else 0)
        failed.append(m.failed if m else 0)
    return finished, failed


class OverviewScreen(DataScreen):
    NAME = "Overview"
    BINDINGS = [
        Binding("f", "app.open_jobs('failed')", "Failed jobs", id="overview.failed"),
        Binding("enter", "open_queue", "Queue's jobs", show=False, id="overview.open"),
        Binding("slash", "filter", "Filter", id="overview.filter"),
    ]
    NOTES = ("The throughput lines are finished and failed jobs per minute over the last 60 minutes.",)

    def body(self) -> ComposeResult:
        with Grid(id="overview"):
            yield Static(id="totals", classes="panel")
            with Vertical(id="throughput", classes="panel"):
                yield Static(id="finished-label")
                yield Sparkline([], id="finished-line", summary_function=max)
                yield Static(id="failed-label")
                yield Sparkline([], id="failed-line", summary_function=max)
            with Vertical(id="health", classes="panel"):
                yield Static(id="processes")
                yield Static(id="paused")
            yield KeyedTable([("queue", "Queue"), ("finished", "✓ Finished"), ("failed", "✗ Failed"),
                              ("state", "State")],
                             id="busiest", classes="panel")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#totals").border_title = "Jobs"
        self.query_one("#throughput").border_title = "Throughput, last 60 minutes"
        self.query_one("#health").border_title = "Processes"
        self.query_one("#busiest").border_title = "Busiest queues, last hour"

    def fetch(self, source, params) -> Overview:
        return source.overview()

    def show(self, data: Overview) -> None:
        self._data = data
        now = self.app.now()
        totals = Table.grid(padding=(0, 1), expand=True)
        totals.add_column()
        totals.add_column(justify="right")
        for name in TOTALS:
            totals.add_row(fmt.state(name), str(data.totals.get(name, "0")))
        totals.add_row(Text("oldest ready", style="dim"), fmt.seconds(data.oldest_ready_age))
        self.query_one("#totals", Static).update(totals)

        finished, failed = minutes(data.throughput, now)
        self.query_one("#finished-label", Static).update(Text.assemble(
            ("✓ finished/min", "green"), f" {finished[-1]:,} now · {max(finished):,} max · {sum(finished):,}/h"))
        self.query_one("#failed-label", Static).update(Text.assemble(
            ("✗ failed/min", "bold red"), f"   {failed[-1]:,} now · {max(failed):,} max · {sum(failed):,}/h"))
        self.query_one("#finished-line", Sparkline).data = finished
        self.query_one("#failed-line", Sparkline).data = failed

        procs = Table.grid(padding=(0, 1), expand=True)
        procs.add_column(no_wrap=True)
        procs.add_column(justify="right", no_wrap=True)
        procs.add_column(no_wrap=True)
        kinds = sorted(data.processes, key=lambda k: ((*KINDS, k).index(k), k))
        for kind in kinds:
            live, stale = data.processes[kind]
            procs.add_row(kind, f"{live} live", fmt.flag(f"⚠ {stale} stale", "warn") if stale else "")
        if not kinds:
            procs.add_row(fmt.flag("⚠ no process", "warn"), "", "")
        self.query_one("#processes", Static).update(procs)
        paused = Text("‖ " + ", ".join(data.paused_queues), style="bold") if data.paused_queues else Text("none")
        self.query_one("#paused", Static).update(Text.assemble(("paused queues: ", "dim"), paused))
        table = self.query_one("#busiest", KeyedTable)
        table.sync([(q.name, (q.name, f"{q.finished:,}", fmt.flag(f"{q.failed:,}", "bad") if q.failed else "0",
                              fmt.flag("‖ paused", "warn") if q.paused else fmt.flag("▶ active", "ok")))
                    for q in data.busiest if self.matches(q.name)])

    def action_open_queue(self) -> None:
        key = self.query_one("#busiest", KeyedTable).cursor_key
        if key:
            self.app.open_jobs("ready", queue=key)

    def on_data_table_row_selected(self, event) -> None:
        self.action_open_queue()
