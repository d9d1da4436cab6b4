"""Queues: counts per state, latency, pause state; pause/resume, clear, and enter for the queue's jobs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from .. import actions
from .. import format as fmt
from ..data import Queues
from ..widgets import KeyedTable
from .base import DataScreen

COLUMNS = [("queue", "Queue"), ("state", "State"), ("ready", "Ready"), ("scheduled", "Sched"),
           ("running", "Running"), ("blocked", "Blocked"), ("failed", "Failed"), ("latency", "Latency")]


class QueuesScreen(DataScreen):
    NAME = "Queues"
    MUTATIONS = frozenset({"toggle_pause", "clear_queue"})
    BINDINGS = [
        Binding("enter", "open", "Jobs", id="queues.open"),
        Binding("p", "toggle_pause", "Pause/resume", id="queues.pause"),
        Binding("ctrl+d", "clear_queue", "Clear", id="queues.clear"),
        Binding("slash", "filter", "Filter", id="queues.filter"),
    ]
    NOTES = ("Latency is how long the oldest ready job has waited.",
             "Clear discards the queue's ready jobs only; it asks first.")

    def body(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="queues")

    def fetch(self, source, params) -> Queues:
        return source.queues()

    def show(self, data: Queues) -> None:
        self._data = data
        self.query_one(KeyedTable).sync([
            (q.name, (q.name, fmt.flag("‖ paused", "warn") if q.paused else fmt.flag("▶ active", "ok"),
                      str(q.ready), str(q.scheduled), str(q.running), str(q.blocked),
                      fmt.flag(str(q.failed), "bad") if q.failed.value else "0", fmt.seconds(q.latency)))
            for q in data.rows if self.matches(q.name, "paused" if q.paused else "active")
        ])

    def _current(self):
        key = self.query_one(KeyedTable).cursor_key
        return next((q for q in self._data.rows if q.name == key), None) if self.rendered and key else None

    def action_open(self) -> None:
        q = self._current()
        if q is not None:
            self.app.open_jobs("ready", queue=q.name)

    def on_data_table_row_selected(self, event) -> None:
        self.action_open()

    def action_toggle_pause(self) -> None:
        q = self._current()
        if q is not None:
            plan = (actions.resume_queue if q.paused else actions.pause_queue)(self.app.backend, q.name)
            self.app.perform(plan)

    def action_clear_queue(self) -> None:
        q = self._current()
        if q is not None:
            self.app.perform(actions.clear_queue(self.app.backend, q.name, q.ready.value if q.ready.exact else None))
