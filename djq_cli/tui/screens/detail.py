"""One job: arguments and return value as JSON, timestamps, every attempt, and the full tracebacks."""

from __future__ import annotations

import json

from rich import box
from rich.console import Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from .. import actions
from .. import format as fmt
from ..data import JobDetailView
from .base import DataScreen


def pretty(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


class JobDetailScreen(DataScreen):
    NAME = "Job"
    MUTATIONS = frozenset({"retry", "discard", "enqueue_again"})
    BINDINGS = [
        Binding("escape", "app.back", "Back", id="detail.back"),
        Binding("r", "retry", "Retry", id="detail.retry"),
        Binding("ctrl+d", "discard", "Discard", id="detail.discard"),
        Binding("e", "enqueue_again", "Enqueue again", id="detail.enqueue_again"),
        Binding("home", "top", "Top", show=False, id="detail.top"),
        Binding("end", "bottom", "Traceback", id="detail.bottom"),
    ]
    NOTES = ("Scroll with the arrows, page up/down, home and end; the last attempt's traceback is at the end.",)

    def __init__(self, job_id: int) -> None:
        super().__init__()
        self.job_id = job_id

    def body(self) -> ComposeResult:
        with VerticalScroll(id="detail"):
            yield Static(Text(f"Loading job {self.job_id}…"), id="detail-summary")
            yield Static(id="detail-payload")
            yield Static(id="detail-attempts")
            yield Static(id="detail-tracebacks")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#detail").focus()

    def params(self):
        return self.job_id

    def fetch(self, source, params) -> JobDetailView:
        return source.job_detail(params)

    def _syntax(self, code: str, lexer: str) -> Syntax:
        dark = self.app.current_theme.dark
        return Syntax(code, lexer, theme="monokai" if dark else "default", background_color="default",
                      word_wrap=False, line_numbers=False)

    def show(self, data: JobDetailView) -> None:
        if data == getattr(self, "_data", None):
            return  # nothing changed: keep the scroll position and skip the work
        self._data = data
        j = data.job
        summary = Table.grid(padding=(0, 2))
        summary.add_column(style="bold", no_wrap=True)
        summary.add_column()
        summary.add_row("Job", Text.assemble((f"{j.id}  ", "bold"), fmt.state(j.state)))
        summary.add_row("Task", j.task)
        summary.add_row("Queue", f"{j.queue}   priority {j.priority}   attempts {j.attempts}")
        for label, value in (("Enqueued", j.enqueued_at), ("Scheduled", j.scheduled_at), ("Started", j.started_at),
                             ("Finished", j.finished_at)):
            summary.add_row(label, fmt.stamp(value))
        if j.worker:
            summary.add_row("Worker", j.worker)
        if data.concurrency_key:
            summary.add_row("Concurrency key", data.concurrency_key)
        if data.recurring_key:
            summary.add_row("Recurring", data.recurring_key)
        self.query_one("#detail-summary", Static).update(summary)

        payload = [Text("Arguments", style="bold"), self._syntax(pretty(data.args), "json"),
                   Text("Keyword arguments", style="bold"), self._syntax(pretty(data.kwargs), "json")]
        if j.state == "finished" or data.return_value is not None:
            payload += [Text("Return value", style="bold"), self._syntax(pretty(data.return_value), "json")]
        self.query_one("#detail-payload", Static).update(Group(*payload))

        attempts = Table(title="Attempts", title_justify="left", title_style="bold", expand=True,
                         box=box.SIMPLE_HEAD, show_edge=False, header_style="bold", pad_edge=False)
        for column in ("#", "Worker", "Started", "Duration", "Outcome"):
            attempts.add_column(column, overflow="fold")
        for a in data.attempts:
            outcome = (fmt.flag(f"✗ {a.error_class.rsplit('.', 1)[-1]}: {a.error_message or ''}", "bad")
                       if a.error_class else fmt.flag("✓ ok", "ok"))
            attempts.add_row(str(a.number), a.worker or "-", fmt.stamp(a.started_at), fmt.seconds(a.duration),
                             outcome)
        if not data.attempts:
            attempts.add_row("-", "-", "-", "-", Text("no attempt yet", style="dim"))
        self.query_one("#detail-attempts", Static).update(attempts)

        tracebacks = []
        for a in reversed(data.attempts):  # the last attempt's first
            if a.traceback:
                last = " (the last)" if a is data.attempts[-1] and len(data.attempts) > 1 else ""
                tracebacks += [Text(f"Traceback of attempt {a.number}{last}: {a.error_class}", style="bold red"),
                               self._syntax(a.traceback.rstrip(), "pytb"), Text("")]
        self.query_one("#detail-tracebacks", Static).update(Group(*tracebacks) if tracebacks else "")

    def check_action(self, action: str, parameters) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed or not self.rendered:
            return allowed
        state = self._data.job.state
        if action == "retry":
            return state == "failed"
        if action == "discard":
            return state in ("ready", "scheduled", "blocked", "failed")
        return True

    def action_retry(self) -> None:
        self.app.perform(actions.retry_jobs(self.app.backend, [self.job_id]))

    def action_discard(self) -> None:
        self.app.perform(actions.discard_jobs(self.app.backend, [self.job_id]))

    def action_enqueue_again(self) -> None:
        self.app.perform(actions.enqueue_again(self.app.backend, [self.job_id]))

    def action_top(self) -> None:
        self.query_one("#detail").scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one("#detail").scroll_end(animate=False)
