"""Jobs by state: a tab per state, filters that run in the database, keyset pages, marks and bulk actions."""

from __future__ import annotations

import shlex

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static, Tab, Tabs

from .. import actions
from .. import format as fmt
from ..data import JOB_TABS, PAGE_SIZE, JobFilters, JobPage
from ..widgets import KeyedTable
from .base import DataScreen

COLUMNS = [("mark", " "), ("id", "ID"), ("queue", "Queue"), ("task", "Task"), ("tries", "Tries"),
           ("when", "When"), ("info", "Info")]
#: The time each tab shows, and what its last column holds.
WHEN = {"ready": "Waiting", "scheduled": "Due", "claimed": "Started", "blocked": "Enqueued",
        "failed": "Failed", "finished": "Finished"}
INFO = {"ready": "Priority", "scheduled": "Priority", "claimed": "Worker", "blocked": "Priority",
        "failed": "Last error", "finished": "Priority"}
DISCARDABLE = ("ready", "scheduled", "blocked", "failed")
PREFIXES = {"queue": "queue", "q": "queue", "task": "task", "t": "task", "exception": "exception", "exc": "exception",
            "e": "exception", "key": "concurrency_key", "k": "concurrency_key"}


def parse_filters(text: str) -> JobFilters:
    """``queue:emails task:app.tasks.send exc:TimeoutError words`` -> JobFilters (words match the last error)."""
    fields: dict[str, str] = {}
    words: list[str] = []
    try:
        tokens = shlex.split(text)
    except ValueError:
        tokens = text.split()
    for token in tokens:
        name, sep, value = token.partition(":")
        if sep and name.lower() in PREFIXES and value:
            fields[PREFIXES[name.lower()]] = value
        else:
            words.append(token)
    return JobFilters(text=" ".join(words) or None, **fields)


def filters_text(filters: JobFilters) -> str:
    parts = [f"{p}:{v}" for p, v in (("queue", filters.queue), ("task", filters.task),
                                      ("exception", filters.exception), ("key", filters.concurrency_key)) if v]
    if filters.text:
        parts.append(filters.text)
    return " ".join(parts)


class JobsScreen(DataScreen):
    NAME = "Jobs"
    MUTATIONS = frozenset({"retry", "discard", "enqueue_again", "retry_matching", "discard_matching"})
    FILTER_HINT = "queue:NAME task:PATH exception:CLASS key:KEY and words (in the last error); empty clears"
    BINDINGS = [
        Binding("enter", "detail", "Detail", show=False, id="jobs.detail"),
        Binding("r", "retry", "Retry", id="jobs.retry"),
        Binding("ctrl+d", "discard", "Discard", id="jobs.discard"),
        Binding("e", "enqueue_again", "Again", id="jobs.enqueue_again"),
        Binding("space", "mark", "Mark", id="jobs.mark"),
        Binding("slash", "filter", "Filter", id="jobs.filter"),
        Binding("left_square_bracket", "tab(-1)", "Prev tab", key_display="[", show=False, id="jobs.prev_tab"),
        Binding("right_square_bracket", "tab(1)", "Next tab", key_display="]", show=False, id="jobs.next_tab"),
        Binding("n", "page(1)", "Next page", id="jobs.next_page"),
        Binding("b", "page(-1)", "Prev page", show=False, id="jobs.prev_page"),
        Binding("ctrl+a", "mark_page", "Mark page", show=False, id="jobs.mark_page"),
        Binding("R", "retry_matching", "Retry all", id="jobs.retry_matching"),
        Binding("D", "discard_matching", "Discard all", id="jobs.discard_matching"),
    ]
    NOTES = ("Actions apply to the marked rows, else to the row under the cursor.",
             "Retry all / Discard all act on every job matching the filter; you type the count to confirm.",
             "Counts stop at 10,000 and show 10,000+ beyond.")

    def __init__(self, state: str = "ready", filters: JobFilters | None = None, *, drill: bool = False) -> None:
        super().__init__()
        self.state = state
        self.filters = filters or JobFilters()
        self.filter_text = filters_text(self.filters)
        self.cursors: list[object] = [None]  # the cursor of each page visited, the current one last
        self.marks: set[int] = set()
        self.drill = drill

    def body(self) -> ComposeResult:
        yield Tabs(*(Tab(label, id=f"tab-{state}") for state, label in JOB_TABS), active=f"tab-{self.state}",
                   id="job-tabs")
        yield Static(id="jobs-status")
        yield KeyedTable(COLUMNS, id="jobs")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(KeyedTable).focus()
        self._label_columns()

    # Data -------------------------------------------------------------------------

    def params(self):
        return (self.state, self.filters, self.cursors[-1])

    def fetch(self, source, params) -> JobPage:
        state, filters, cursor = params
        return source.job_page(state, filters, cursor)

    def show(self, data: JobPage) -> None:
        if data.state != self.state:
            return  # a page of the tab we just left
        self._data = data
        now = self.app.now()
        rows = []
        for j in data.rows:
            when = {"ready": j.scheduled_at, "scheduled": j.scheduled_at, "claimed": j.started_at,
                    "blocked": j.enqueued_at, "failed": j.finished_at, "finished": j.finished_at}.get(j.state)
            if self.state == "failed":
                info = fmt.flag(fmt.clip(j.last_error, 60), "bad")
            elif self.state == "claimed":
                info = j.worker or "-"
            else:
                info = str(j.priority)
            rows.append((str(j.id), ("●" if j.id in self.marks else " ", str(j.id), j.queue, fmt.short_task(j.task),
                                     str(j.attempts), fmt.ago(when, now), info)))
        self.query_one(KeyedTable).sync(rows)
        self._status()

    def _status(self) -> None:
        page = len(self.cursors)
        data = self._data
        text = Text()
        label = dict(JOB_TABS)[self.state]
        text.append(f" {label} ", style="bold reverse")
        if data is not None:
            first = (page - 1) * PAGE_SIZE + 1
            shown = f"{first:,}-{first + len(data.rows) - 1:,}" if data.rows else "none"
            text.append(f"  {shown} of {data.total}  ·  page {page}")
            if data.next_cursor is not None:
                text.append("  (n: next)", style="dim")
        if not self.filters.empty:
            text.append(f"  ·  filter {self.filters.describe()}", style="bold")
        if self.marks:
            text.append(f"  ·  ● {len(self.marks)} marked", style="bold")
        self.query_one("#jobs-status", Static).update(text)

    def _label_columns(self) -> None:
        self.query_one(KeyedTable).relabel({"when": WHEN[self.state], "info": INFO[self.state]})

    def _reload(self) -> None:
        self._data = None
        self.query_one(KeyedTable).sync([])
        self._status()
        self.app.refresh_now()

    # Navigation ------------------------------------------------------------------------

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        state = event.tab.id.removeprefix("tab-")
        if state != self.state:
            self.state, self.cursors, self.marks = state, [None], set()
            self._label_columns()
            self.refresh_bindings()
            self._reload()

    def select_state(self, state: str) -> None:
        self.query_one(Tabs).active = f"tab-{state}"

    def goto(self, state: str, filters: JobFilters | None = None) -> None:
        """Show this tab (and filter), whether or not the screen is mounted yet."""
        if not self.is_mounted:
            self.state = state
            if filters is not None:
                self.filters, self.filter_text = filters, filters_text(filters)
            return
        if filters is not None and filters != self.filters:
            self.filters, self.filter_text = filters, filters_text(filters)
            self.cursors, self.marks = [None], set()
        if state != self.state:
            self.select_state(state)
        else:
            self._reload()

    def action_tab(self, step: int) -> None:
        states = [s for s, _ in JOB_TABS]
        self.select_state(states[(states.index(self.state) + step) % len(states)])

    def action_page(self, step: int) -> None:
        if step > 0 and self._data is not None and self._data.next_cursor is not None:
            self.cursors.append(self._data.next_cursor)
        elif step < 0 and len(self.cursors) > 1:
            self.cursors.pop()
        else:
            return
        self._reload()

    def apply_filter(self, text: str | None) -> None:
        if text is None:
            return
        self.filter_text = text.strip()
        self.set_filters(parse_filters(self.filter_text))

    def set_filters(self, filters: JobFilters) -> None:
        self.filters, self.filter_text = filters, filters_text(filters)
        self.cursors, self.marks = [None], set()
        self._reload()

    def back(self) -> bool:
        if self.marks:
            self.marks = set()
            if self._data is not None:
                self.show(self._data)
            return True
        if not self.filters.empty and not self.drill:
            self.set_filters(JobFilters())
            return True
        if len(self.cursors) > 1:
            self.cursors = [None]
            self._reload()
            return True
        return False

    def action_detail(self) -> None:
        key = self.query_one(KeyedTable).cursor_key
        if key:
            from .detail import JobDetailScreen

            self.app.push_screen(JobDetailScreen(int(key)))

    def on_data_table_row_selected(self, event) -> None:
        self.action_detail()

    def action_mark(self) -> None:
        table = self.query_one(KeyedTable)
        key = table.cursor_key
        if key:
            self.marks ^= {int(key)}
            self.show(self._data)
            if table.cursor_row < table.row_count - 1:
                table.move_cursor(row=table.cursor_row + 1)

    def action_mark_page(self) -> None:
        if self._data is not None:
            self.marks |= {j.id for j in self._data.rows}
            self.show(self._data)

    # Actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        if action in ("retry", "retry_matching"):
            return self.state == "failed"
        if action in ("discard", "discard_matching"):
            return self.state in DISCARDABLE
        return True

    def targets(self) -> list[int]:
        if self.marks:
            return sorted(self.marks)
        key = self.query_one(KeyedTable).cursor_key
        return [int(key)] if key else []

    def _act(self, build) -> None:
        ids = self.targets()
        if ids:
            self.app.perform(build(self.app.backend, ids), after=self._acted)

    def _acted(self) -> None:
        self.marks = set()

    def action_retry(self) -> None:
        self._act(actions.retry_jobs)

    def action_discard(self) -> None:
        self._act(actions.discard_jobs)

    def action_enqueue_again(self) -> None:
        self._act(actions.enqueue_again)

    def action_retry_matching(self) -> None:
        self.app.perform_matching("failed", self.filters)

    def action_discard_matching(self) -> None:
        self.app.perform_matching(self.state, self.filters)
