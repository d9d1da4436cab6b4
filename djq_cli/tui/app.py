"""The ``djq tui`` application: modes per screen, the refresh loop, actions, prompts and the outage banner.

Refresh: one poll at a time. The current screen gives its parameters on the
event loop, a thread worker reads through the data source (which owns and
closes its connections), and the result is applied on the event loop; the
next poll is armed only when this one ends, so a slow database slows the
refresh down instead of piling up threads. A poll that fails with a
database error shows a banner and is retried; the first good poll clears
it. A poll that takes too long shows the banner too, while every key keeps
working.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from textual import work
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from . import actions
from .actions import Plan
from .data import JOB_TABS, JobFilters, Source
from .screens.base import DataScreen
from .screens.detail import JobDetailScreen
from .screens.jobs import JobsScreen, parse_filters
from .screens.overview import OverviewScreen
from .screens.processes import ProcessesScreen
from .screens.queues import QueuesScreen
from .screens.recurring import RecurringScreen, SemaphoresScreen
from .widgets import Banner, TopBar

SCREENS_IN_ORDER = ("overview", "queues", "jobs", "processes", "recurring", "semaphores")
INTERVALS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
COMMANDS = {
    "overview": "overview", "ov": "overview", "o": "overview", "home": "overview",
    "queues": "queues", "queue": "queues", "qs": "queues",
    "jobs": "jobs", "j": "jobs",
    "processes": "processes", "ps": "processes", "proc": "processes", "workers": "processes",
    "recurring": "recurring", "rec": "recurring", "cron": "recurring",
    "semaphores": "semaphores", "sem": "semaphores", "locks": "semaphores",
}
STATE_WORDS = {state: state for state, _ in JOB_TABS} | {"running": "claimed", "claimed": "claimed"}
COMMAND_HELP = (
    ":overview :queues :jobs [STATE] [queue:Q task:T exception:E] :failed :processes :recurring :semaphores",
    ":job ID opens a job, :refresh SECONDS sets the interval, :pause / :resume the refresh, "
    ":theme light|dark, :q quits",
)


class DjqApp(App):
    """The live dashboard for one djq backend."""

    CSS_PATH = "djq.tcss"
    TITLE = "djq"
    MODES = {"overview": OverviewScreen, "queues": QueuesScreen, "jobs": JobsScreen,
             "processes": ProcessesScreen, "recurring": RecurringScreen, "semaphores": SemaphoresScreen}
    BINDINGS = [
        Binding("1", "switch_to('overview')", "Overview", show=False, id="app.overview"),
        Binding("2", "switch_to('queues')", "Queues", show=False, id="app.queues"),
        Binding("3", "switch_to('jobs')", "Jobs", show=False, id="app.jobs"),
        Binding("4", "switch_to('processes')", "Processes", show=False, id="app.processes"),
        Binding("5", "switch_to('recurring')", "Recurring", show=False, id="app.recurring"),
        Binding("6", "switch_to('semaphores')", "Semaphores", show=False, id="app.semaphores"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("colon", "command", "Command", key_display=":", id="app.command"),
        Binding("escape", "back", "Back", show=False, id="app.back"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="app.refresh"),
        Binding("plus,equals_sign", "interval(1)", "Slower", show=False, key_display="+", id="app.slower"),
        Binding("minus", "interval(-1)", "Faster", show=False, key_display="-", id="app.faster"),
        Binding("z", "toggle_refresh", "Pause refresh", show=False, id="app.pause"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, source: Source, *, where: str = "", read_only: bool = False, interval: float = 2.0,
                 clock: Callable[[], datetime] | None = None, theme: str | None = None) -> None:
        super().__init__()
        self.source = source
        self.backend = source.backend_alias
        self.where = where
        self.read_only = read_only
        self.interval = interval
        self.paused = False
        self.clock = clock
        if theme:
            self.theme = theme
        self.last_ok: datetime | None = None
        self.refreshes = 0  # good polls so far
        self.outage: str | None = None
        self._inflight: tuple[DataScreen, float] | None = None
        self._again = False
        self._timer = None
        #: Every plan that ran, in order (what the notifications reported).
        self.performed: list[Plan] = []

    # Time and the frame ---------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock() if self.clock else datetime.now(UTC)

    def on_mount(self) -> None:
        self.switch_mode("overview")
        self.set_interval(1.0, self._tick)

    def screen_shown(self, screen: DataScreen) -> None:
        self._frame(screen)
        self.refresh_now()

    def _current(self) -> Screen | None:
        try:
            return self.screen
        except ScreenStackError:
            return None

    def _frame(self, screen: Screen | None = None) -> None:
        screen = screen or self._current()
        if not isinstance(screen, DataScreen):
            return
        for bar in screen.query(TopBar):
            bar.show(title=screen.NAME, backend=self.backend, where=self.where, read_only=self.read_only,
                     paused=self.paused, interval=self.interval, updated=self.last_ok, now=self.now(),
                     busy=self._inflight is not None)
        for banner in screen.query(Banner):
            if self.outage:
                banner.warn(self.outage)
            else:
                banner.clear()

    def _tick(self) -> None:
        if self._inflight is not None:
            waited = time.monotonic() - self._inflight[1]
            if waited > max(5.0, 2 * self.interval):
                self.outage = f"the database is not answering (waiting {waited:.0f}s); keys still work"
        self._frame()

    # The refresh loop -----------------------------------------------------------------

    def refresh_now(self) -> None:
        """Poll the current screen now (or right after the poll in flight)."""
        if self._inflight is not None:
            self._again = True
            return
        screen = self._current()
        if screen is None:
            return  # starting or closing
        if not isinstance(screen, DataScreen):
            self._arm(self.interval)  # a modal is open: wait for it
            return
        self._inflight = (screen, time.monotonic())
        self._fetch(screen, screen.params())

    @work(thread=True, group="refresh", exit_on_error=False)
    def _fetch(self, screen: DataScreen, params: Any) -> None:
        try:
            data = self.source.run(lambda: screen.fetch(self.source, params))
        except Exception as exc:
            self._from_thread(self._failed, screen, exc)
        else:
            self._from_thread(self._fetched, screen, params, data)

    def _from_thread(self, fn, *args) -> None:
        try:
            self.call_from_thread(fn, *args)
        except RuntimeError:
            pass  # the app is closing

    def _fetched(self, screen: DataScreen, params: Any, data: Any) -> None:
        self._inflight = None
        self.last_ok = self.now()
        self.refreshes += 1
        self.outage = None
        if screen.is_attached and screen.params() == params:
            screen.show(data)
            if screen is self.screen:
                self.refresh_bindings()
        else:
            self._again = True  # the screen moved on (tab, page, filter) while we read
        self._frame()
        self._next()

    def _failed(self, screen: DataScreen, exc: Exception) -> None:
        from django.db import Error as DatabaseError

        from ..errors import describe

        self._inflight = None
        if isinstance(exc, DatabaseError):
            retry = min(self.interval, 2.0)
            first = " ".join(str(exc).split())[:120] or type(exc).__name__
            self.outage = f"database unreachable ({first}); retrying every {retry:g}s, keys still work"
            self._frame()
            self._arm(retry)
            return
        self.notify(describe(exc), title="Refresh failed", severity="error")
        self._frame()
        self._next()

    def _next(self) -> None:
        if self._again:
            self._again = False
            self.refresh_now()
        elif not self.paused:
            self._arm(self.interval)

    def _arm(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(delay, self.refresh_now)

    def action_refresh(self) -> None:
        self.refresh_now()

    def action_interval(self, step: int) -> None:
        i = min(range(len(INTERVALS)), key=lambda n: abs(INTERVALS[n] - self.interval))
        self.set_interval_seconds(INTERVALS[max(0, min(len(INTERVALS) - 1, i + step))])

    def set_interval_seconds(self, seconds: float) -> None:
        self.interval = max(0.5, min(300.0, seconds))
        self.notify(f"refresh every {self.interval:g}s", timeout=2)
        self._frame()
        if not self.paused:
            self._arm(self.interval)

    def action_toggle_refresh(self) -> None:
        self.paused = not self.paused
        self.notify("refresh paused (z resumes)" if self.paused else "refresh resumed", timeout=2)
        if self.paused and self._timer is not None:
            self._timer.stop()
        else:
            self.refresh_now()
        self._frame()

    # Navigation -------------------------------------------------------------------------

    def action_switch_to(self, mode: str) -> None:
        if mode != self.current_mode:
            self.switch_mode(mode)

    def open_jobs(self, state: str, **filters: str) -> None:
        """Drill down: the jobs of a queue (or a key) in this mode's stack; esc comes back."""
        self.push_screen(JobsScreen(state, JobFilters(**filters), drill=True))

    def open_job(self, job_id: int) -> None:
        self.push_screen(JobDetailScreen(job_id))

    def action_open_jobs(self, state: str) -> None:
        self.switch_to_jobs(state)

    def switch_to_jobs(self, state: str, filters: JobFilters | None = None) -> None:
        self.action_switch_to("jobs")
        while len(self.screen_stack) > 1:
            self.pop_screen()
        base = self.screen_stack[0]
        if isinstance(base, JobsScreen):
            base.goto(state, filters)

    def action_back(self) -> None:
        screen = self.screen
        if isinstance(screen, DataScreen) and screen.back():
            return
        if len(self.screen_stack) > 1:
            self.pop_screen()

    # Prompts and help ----------------------------------------------------------------------

    def action_command(self) -> None:
        from .modals import Prompt

        self.push_screen(Prompt(":", hint="  ".join(COMMAND_HELP)), self.run_command)

    def run_command(self, text: str | None) -> None:
        if not text or not text.strip():
            return
        word, _, rest = text.strip().lstrip(":").partition(" ")
        word, rest = word.lower(), rest.strip()
        if word in ("q", "quit", "exit", "q!"):
            self.exit()
        elif word == "failed":
            self.switch_to_jobs("failed", parse_filters(rest) if rest else None)
        elif word in COMMANDS and COMMANDS[word] == "jobs":
            state, _, more = rest.partition(" ")
            if state.lower() in STATE_WORDS:
                self.switch_to_jobs(STATE_WORDS[state.lower()], parse_filters(more) if more else None)
            else:
                self.switch_to_jobs("ready", parse_filters(rest) if rest else None)
        elif word in COMMANDS:
            self.action_switch_to(COMMANDS[word])
        elif word == "job" and rest.isdigit():
            self.open_job(int(rest))
        elif word in ("refresh", "interval") and rest:
            try:
                self.set_interval_seconds(float(rest.rstrip("s")))
            except ValueError:
                self.notify(f"not a number of seconds: {rest!r}", severity="error")
        elif word in ("pause", "freeze") or (word == "resume" and self.paused):
            if (word == "resume") == self.paused:
                self.action_toggle_refresh()
        elif word == "theme":
            self.theme = {"light": "textual-light", "dark": "textual-dark"}.get(rest, rest or "textual-dark")
        elif word == "help":
            self.action_help()
        else:
            self.notify(f"unknown command {word!r}. " + COMMAND_HELP[0], severity="error", timeout=6)

    def action_help(self) -> None:
        from .modals import HelpScreen

        screen = self.screen
        keys: list[tuple[str, str]] = []
        for b in [*getattr(screen, "BINDINGS", ()), *self.BINDINGS]:
            if not isinstance(b, Binding) or not b.description or b.key in ("1", "2", "3", "4", "5", "6"):
                continue
            owner = self if b in self.BINDINGS else screen
            name = b.action.partition("(")[0]
            if name.startswith("app."):
                owner, name = self, name[4:]
            if owner.check_action(name, ()) is False:
                continue
            keys.append((self.get_key_display(b), b.description))
        keys += [("1-6", "Overview, Queues, Jobs, Processes, Recurring, Semaphores"),
                 ("+ / -", f"refresh slower / faster (now every {self.interval:g}s)"),
                 ("z", "pause / resume the refresh"), ("ctrl+r", "refresh now"),
                 ("ctrl+p", "command palette"), ("esc", "clear the filter or marks, then back")]
        notes = list(getattr(screen, "NOTES", ())) + list(COMMAND_HELP)
        if self.read_only:
            notes.insert(0, "Read-only: every action is hidden and refused.")
        name = getattr(screen, "NAME", "djq")
        self.push_screen(HelpScreen(name, sorted(set(keys), key=keys.index), notes))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for i, mode in enumerate(SCREENS_IN_ORDER, 1):
            yield SystemCommand(f"Go to {mode.capitalize()}", f"Key {i}", partial(self.action_switch_to, mode))
        yield SystemCommand("Failed jobs", "The Jobs screen, failed tab", partial(self.switch_to_jobs, "failed"))
        if isinstance(screen, DataScreen):
            for binding in screen.BINDINGS:
                b = binding if isinstance(binding, Binding) else None
                if b is None or not b.description or "filter" in b.action:
                    continue
                name = b.action.split("(")[0]
                if screen.check_action(name, ()):
                    yield SystemCommand(f"{screen.NAME}: {b.description}", f"Key {self.get_key_display(b)}",
                                        partial(self.call_later, self.run_action, b.action, screen))
        yield SystemCommand("Pause or resume the refresh", "Key z", self.action_toggle_refresh)
        yield SystemCommand("Refresh now", "Key ctrl+r", self.action_refresh)
        yield SystemCommand("Help", "Key ?", self.action_help)
        yield from super().get_system_commands(screen)

    # Actions ----------------------------------------------------------------------------------

    def perform(self, plan: Plan, *, after: Callable[[], None] | None = None) -> None:
        """Run a plan: at once when reversible, after the confirm modal when destructive."""
        if self.read_only:
            self.notify(f"read-only: {plan.title.lower()} refused", severity="error")
            return
        if not plan.destructive:
            self._execute(plan, after)
            return
        from .modals import ConfirmModal

        def decided(yes: bool | None) -> None:
            if yes:
                self._execute(plan, after)
            else:
                self.notify("cancelled, nothing changed", timeout=2)

        self.push_screen(ConfirmModal(plan), decided)

    @work(thread=True, group="action", exit_on_error=False)
    def _execute(self, plan: Plan, after: Callable[[], None] | None) -> None:
        from ..errors import describe

        try:
            message = self.source.run(plan.run, read=False)
        except Exception as exc:
            self._from_thread(self.notify, describe(exc), title=plan.title, severity="error")
        else:
            self.performed.append(plan)
            self._from_thread(self.notify, message, title=plan.title)
            if after is not None:
                self._from_thread(after)
        self._from_thread(self.refresh_now)

    def perform_matching(self, state: str, filters: JobFilters) -> None:
        """Retry or discard everything matching the filter: count now, then ask for that count."""
        if self.read_only:
            self.notify("read-only: bulk actions refused", severity="error")
            return
        self._count_then_confirm(state, filters)

    @work(thread=True, group="action", exit_on_error=False)
    def _count_then_confirm(self, state: str, filters: JobFilters) -> None:
        from ..errors import describe

        try:
            matched = self.source.run(lambda: actions.count_matching(self.backend, state, filters))
        except Exception as exc:
            self._from_thread(self.notify, describe(exc), severity="error")
            return
        if not matched:
            self._from_thread(self.notify, f"no {state} job matches {filters.describe() or 'the filter'}")
            return
        plan = (actions.retry_matching(self.backend, filters, matched) if state == "failed"
                else actions.discard_matching(self.backend, state, filters, matched))
        self._from_thread(self.perform, plan)
