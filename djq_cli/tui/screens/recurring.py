"""Recurring tasks (schedule in cron and words, next and last run) and semaphores (slots and waiting jobs)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from .. import actions
from .. import format as fmt
from ..data import Recurring, Semaphores
from ..widgets import KeyedTable
from .base import DataScreen


class RecurringScreen(DataScreen):
    NAME = "Recurring"
    MUTATIONS = frozenset({"toggle_pause", "run_now", "unschedule"})
    BINDINGS = [
        Binding("p", "toggle_pause", "Pause/resume", id="recurring.pause"),
        Binding("t", "run_now", "Run now", id="recurring.run"),
        Binding("ctrl+d", "unschedule", "Unschedule", id="recurring.unschedule"),
        Binding("slash", "filter", "Filter", id="recurring.filter"),
    ]
    NOTES = ("A paused task shows no next run; resuming skips the slots it missed.",
             "Only dynamic tasks can be unscheduled; tasks from settings are removed in settings.")
    COLUMNS = [("key", "Key"), ("task", "Task"), ("schedule", "Cron"), ("words", "Runs"), ("next", "Next"),
               ("last", "Last run"), ("state", "State"), ("origin", "From")]

    def body(self) -> ComposeResult:
        yield KeyedTable(self.COLUMNS, id="recurring")

    def fetch(self, source, params) -> Recurring:
        return source.recurring()

    def show(self, data: Recurring) -> None:
        self._data = data
        now = self.app.now()
        rows = []
        for t in data.rows:
            if not self.matches(t.key, t.task, t.schedule, t.words, t.queue):
                continue
            last = fmt.ago(t.last_run_at, now)
            if t.last_status:
                last = fmt.state(t.last_status).append(f" {last}") if t.last_run_at else fmt.state(t.last_status)
            rows.append((t.key, (t.key, fmt.short_task(t.task, 30), t.schedule, fmt.clip(t.words, 30),
                                 "-" if t.paused else fmt.ago(t.next_run_at, now), last,
                                 fmt.flag("‖ paused", "warn") if t.paused else fmt.flag("▶ active", "ok"),
                                 "settings" if t.static else "dynamic")))
        self.query_one(KeyedTable).sync(rows)

    def _current(self):
        key = self.query_one(KeyedTable).cursor_key
        return next((t for t in self._data.rows if t.key == key), None) if self.rendered and key else None

    def action_toggle_pause(self) -> None:
        t = self._current()
        if t is not None:
            self.app.perform(actions.pause_recurring(self.app.backend, t.key, not t.paused))

    def action_run_now(self) -> None:
        t = self._current()
        if t is not None:
            self.app.perform(actions.run_recurring(self.app.backend, t.key))

    def action_unschedule(self) -> None:
        t = self._current()
        if t is None:
            return
        if t.static:
            self.app.notify(f"{t.key} comes from settings; remove it from OPTIONS['recurring'] (or pause it)",
                            severity="warning")
            return
        self.app.perform(actions.unschedule_recurring(self.app.backend, t.key, t.task, t.schedule))


class SemaphoresScreen(DataScreen):
    NAME = "Semaphores"
    BINDINGS = [
        Binding("enter", "blocked", "Blocked jobs", id="semaphores.blocked"),
        Binding("slash", "filter", "Filter", id="semaphores.filter"),
    ]
    NOTES = ("In use is how many of the key's slots are taken; blocked jobs wait for one to free or expire.",)
    COLUMNS = [("key", "Key"), ("used", "In use"), ("holders", "Holders"), ("blocked", "Blocked"),
               ("expires", "Expires")]

    def body(self) -> ComposeResult:
        yield KeyedTable(self.COLUMNS, id="semaphores")

    def fetch(self, source, params) -> Semaphores:
        return source.semaphores()

    def show(self, data: Semaphores) -> None:
        self._data = data
        now = self.app.now()
        self.query_one(KeyedTable).sync([
            (s.key, (s.key, f"{s.limit - s.free}/{s.limit}", str(s.holders),
                     fmt.flag(f"◼ {s.blocked}", "warn") if s.blocked else "0", fmt.ago(s.expires_at, now)))
            for s in data.rows if self.matches(s.key)
        ])

    def action_blocked(self) -> None:
        key = self.query_one(KeyedTable).cursor_key
        if key:
            self.app.open_jobs("blocked", concurrency_key=key)

    def on_data_table_row_selected(self, event) -> None:
        self.action_blocked()
