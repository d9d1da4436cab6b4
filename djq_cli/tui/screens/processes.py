"""Processes as a supervisor tree: kind, host, pid, queues, threads, heartbeat age (stale flagged), jobs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from .. import format as fmt
from ..data import Processes, ProcessView
from ..widgets import KeyedTable
from .base import DataScreen

COLUMNS = [("process", "Process"), ("host", "Host"), ("pid", "PID"), ("queues", "Queues"), ("threads", "Thr"),
           ("heartbeat", "Heartbeat"), ("jobs", "Running")]


def tree(rows: tuple[ProcessView, ...]) -> list[tuple[ProcessView, str]]:
    """Supervisors first, each followed by its children; orphans (no live supervisor row) last."""
    by_id = {p.id: p for p in rows}
    children: dict[int | None, list[ProcessView]] = {}
    for p in rows:
        parent = p.supervisor_id if p.supervisor_id in by_id else None
        children.setdefault(parent, []).append(p)
    out: list[tuple[ProcessView, str]] = []

    def walk(parent: int | None, prefix: str) -> None:
        kids = sorted(children.get(parent, ()), key=lambda p: (p.kind != "supervisor", p.kind, p.name))
        for i, p in enumerate(kids):
            last = i == len(kids) - 1
            branch = "" if parent is None else ("└─ " if last else "├─ ")
            out.append((p, prefix + branch))
            walk(p.id, prefix + ("" if parent is None else ("   " if last else "│  ")))

    walk(None, "")
    return out


class ProcessesScreen(DataScreen):
    NAME = "Processes"
    BINDINGS = [Binding("slash", "filter", "Filter", id="processes.filter")]
    NOTES = ("A process whose heartbeat is older than process_alive_threshold is flagged ⚠ stale: "
             "its supervisor (or the next one to run) prunes it and fails its jobs.",)

    def body(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="processes")

    def fetch(self, source, params) -> Processes:
        return source.processes()

    def show(self, data: Processes) -> None:
        self._data = data
        rows = []
        for p, prefix in tree(data.rows):
            if not self.matches(p.kind, p.name, p.host, p.pid, *p.queues):
                continue
            heartbeat = fmt.seconds(p.heartbeat_age) + " ago"
            jobs = str(p.running)
            if p.running_ids:
                jobs += " (" + ", ".join(str(i) for i in p.running_ids[:4]) + (", …" if len(p.running_ids) > 4
                                                                                   else "") + ")"
            name = p.name if p.name.startswith(p.kind) else f"{p.kind} {p.name}"
            rows.append((str(p.id), (f"{prefix}{name}", p.host, str(p.pid), ",".join(p.queues) or "-",
                                     "-" if p.threads is None else str(p.threads),
                                     fmt.flag(heartbeat, "ok") if p.alive else fmt.flag(f"⚠ stale {heartbeat}",
                                                                                        "warn"),
                                     jobs if p.kind == "worker" else "-")))
        self.query_one(KeyedTable).sync(rows)
