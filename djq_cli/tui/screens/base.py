"""What every dashboard screen shares: the frame, the refresh contract, filters and read-only rules.

A screen never reads the database itself. The app's refresh loop asks it
for ``params()`` on the event loop, calls ``fetch(source, params)`` in a
worker thread, and hands the result to ``show(data)`` back on the event
loop.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from ..widgets import Banner, TopBar


class DataScreen(Screen):
    #: The name in the top bar and the help screen.
    NAME: ClassVar[str] = ""
    #: Actions that change the queue: hidden and refused in read-only mode.
    MUTATIONS: ClassVar[frozenset[str]] = frozenset()
    #: Extra lines for the help screen.
    NOTES: ClassVar[tuple[str, ...]] = ()
    #: What the ``/`` prompt says.
    FILTER_HINT: ClassVar[str] = "filter the rows (text anywhere in a row); empty clears"

    filter_text: str = ""

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        yield Banner(id="banner")
        yield from self.body()
        yield Footer()

    def body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.query_one(Banner).display = False

    def on_screen_resume(self) -> None:
        self.app.screen_shown(self)

    # The refresh contract ------------------------------------------------------

    def params(self) -> Any:
        return None

    def fetch(self, source, params) -> Any:
        raise NotImplementedError

    def show(self, data: Any) -> None:
        raise NotImplementedError

    @property
    def rendered(self) -> bool:
        return getattr(self, "_data", None) is not None

    # Read-only ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.MUTATIONS and self.app.read_only)

    # Filtering (screens with small lists filter what they already have) --------------

    def action_filter(self) -> None:
        from ..modals import Prompt

        self.app.push_screen(Prompt("/", self.filter_text, hint=self.FILTER_HINT), self.apply_filter)

    def apply_filter(self, text: str | None) -> None:
        if text is None:
            return
        self.filter_text = text.strip()
        self.filter_changed()

    def filter_changed(self) -> None:
        if self.rendered:
            self.show(self._data)

    def matches(self, *values: object) -> bool:
        if not self.filter_text:
            return True
        needle = self.filter_text.lower()
        return any(needle in str(v).lower() for v in values if v is not None)

    def back(self) -> bool:
        """Esc: clear the filter first; True when it did something."""
        if self.filter_text:
            self.apply_filter("")
            return True
        return False
