"""Modal screens: the confirm dialog, the ``:`` and ``/`` prompts, and the help screen."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from .actions import Plan


class ConfirmModal(ModalScreen[bool]):
    """Asks before a destructive action; "No" has the focus.

    It names what will change (the count and the ids or the filter captured
    when it opened) and the ``djq`` command that does the same. With
    ``plan.typed`` set, "Yes" stays disabled until the operator types that
    number.
    """

    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel", id="confirm.cancel")]

    def __init__(self, plan: Plan) -> None:
        super().__init__(classes="dialog-screen")
        self.plan = plan

    def compose(self) -> ComposeResult:
        p = self.plan
        with Vertical(id="confirm", classes="dialog"):
            yield Label(Text(f"{p.title}?", style="bold"), id="confirm-title")
            yield Static(Text(f"Acts on {p.targets}."), id="confirm-targets")
            yield Static(Text.assemble(("Same as: ", "dim"), (p.command, "bold")), id="confirm-command")
            if p.typed is not None:
                yield Label(f"Type {p.typed} to confirm:", id="confirm-ask")
                yield Input(placeholder=str(p.typed), id="confirm-typed", restrict=r"[0-9]*")
            with Horizontal(id="confirm-buttons"):
                yield Button("No", id="no", variant="primary")
                yield Button("Yes", id="yes", variant="error", disabled=p.typed is not None)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#yes", Button).disabled = event.value != str(self.plan.typed)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value == str(self.plan.typed):
            self.dismiss(True)

    def on_key(self, event) -> None:
        # Digits typed while a button has the focus go to the count field.
        if self.plan.typed is not None and event.character and event.character.isdigit():
            field = self.query_one("#confirm-typed", Input)
            if not field.has_focus:
                field.focus()
                field.insert_text_at_cursor(event.character)
                event.stop()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class Prompt(ModalScreen[str | None]):
    """A one-line prompt at the bottom: ``:`` commands and ``/`` filters."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="prompt.cancel")]

    def __init__(self, prefix: str, value: str = "", *, hint: str = "") -> None:
        super().__init__(classes="prompt-screen")
        self.prefix, self.value, self.hint = prefix, value, hint

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            if self.hint:
                yield Static(Text(self.hint, style="dim"), id="prompt-hint")
            with Horizontal(id="prompt-line"):
                yield Label(self.prefix, id="prompt-prefix")
                yield Input(self.value, id="prompt-input", select_on_focus=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class HelpScreen(ModalScreen[None]):
    """Every key of the screen it was opened from, and the global ones."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help.close")]

    def __init__(self, title: str, keys: Sequence[tuple[str, str]], notes: Sequence[str] = ()) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text, self.keys, self.notes = title, keys, notes

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, description in self.keys:
            table.add_row(key, description)
        with VerticalScroll(id="help", classes="dialog"):
            yield Label(Text(f"Keys: {self.title_text}", style="bold"))
            yield Static(table)
            for note in self.notes:
                yield Static(Text(note), classes="help-note")
            yield Static(Text("esc closes this help", style="dim"))
