"""Widgets the screens share: the keyed table that refreshes in place, the top bar and the outage banner."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual.widgets import DataTable, Static

from .format import ago

Cells = Sequence[object]


class KeyedTable(DataTable):
    """A DataTable whose rows are keyed by id and refreshed without losing the cursor.

    ``sync`` updates only the cells that changed when the rows are the same
    ones in the same order (the common tick), and otherwise rebuilds inside
    one batch (one frame, no flicker), then puts the cursor back on the row
    with the same key at the same height on the screen.
    """

    def __init__(self, columns: Sequence[tuple[str, str]], **kwargs) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self._column_spec = list(columns)
        self._keys: list[str] = []  # the rows shown, in order
        self._cells: dict[str, tuple] = {}  # what each row shows, to update only the cells that changed

    def on_mount(self) -> None:
        if not self.columns:
            for key, label in self._column_spec:
                self.add_column(label, key=key)

    def relabel(self, labels: dict[str, str]) -> None:
        """New column headings (and widths); the rows come back with the next ``sync``."""
        self._column_spec = [(key, labels.get(key, label)) for key, label in self._column_spec]
        if not self.columns:
            return  # not mounted yet: on_mount adds them
        self.clear(columns=True)
        self._keys, self._cells = [], {}
        for key, label in self._column_spec:
            self.add_column(label, key=key)

    @property
    def row_keys(self) -> list[str]:
        return list(self._keys)

    @property
    def cursor_key(self) -> str | None:
        keys = self._keys
        return keys[self.cursor_row] if keys and 0 <= self.cursor_row < len(keys) else None

    def sync(self, rows: Sequence[tuple[str, Cells]]) -> None:
        keys = [k for k, _ in rows]
        anchor, row = self.cursor_key, self.cursor_row
        offset = row - int(self.scroll_y)
        with self.app.batch_update():
            if keys == self._keys:
                columns = [c for c, _ in self._column_spec]
                for key, cells in rows:
                    old = self._cells[key]
                    for column, new, was in zip(columns, cells, old, strict=False):
                        if new != was:
                            self.update_cell(key, column, new)
            else:
                self.clear()
                for key, cells in rows:
                    self.add_row(*cells, key=key)
            self._keys = keys
            self._cells = {key: tuple(cells) for key, cells in rows}
            if keys:
                target = keys.index(anchor) if anchor in keys else min(row, len(keys) - 1)
                if target != self.cursor_row:
                    self.move_cursor(row=target, animate=False, scroll=False)
                    self.call_after_refresh(self.scroll_to, y=max(0, target - offset), animate=False)

    def move_to_key(self, key: str) -> None:
        if key in self._keys:
            self.move_cursor(row=self._keys.index(key), animate=False)


class TopBar(Static):
    """One line: what is shown, from where, read-only or not, refresh state."""

    def show(self, *, title: str, backend: str, where: str, read_only: bool, paused: bool, interval: float,
             updated: datetime | None, now: datetime, busy: bool) -> None:
        tail = Text()
        if read_only:
            tail.append(" READ-ONLY ", style="bold reverse")
            tail.append(" ")
        tail.append("‖ refresh paused" if paused else f"⟳ {interval:g}s", style="bold" if paused else "")
        if updated is not None:
            when = ago(updated, now)
            tail.append(f" · {when}" if when != "now" else " · up to date")
        if busy:
            tail.append(" …")
        head = Text()
        head.append(" djq ", style="bold reverse")
        head.append(f" {title} ", style="bold")
        room = (self.size.width or 200) - len(head) - len(tail) - len(backend) - 6
        if room < len(where):
            where = where.split(" in ")[0].split(": ")[0] if room < 16 else where[: max(0, room - 1)] + "…"
        head.append(f"· {backend} · {where} " if where else f"· {backend} ")
        self.update(head + tail)


class Banner(Static):
    """Shown while the database cannot be read; hidden again by the first good refresh."""

    def warn(self, message: str) -> None:
        self.update(Text(f"⚠ {message}", style="bold"))
        self.display = True

    def clear(self) -> None:
        self.display = False
