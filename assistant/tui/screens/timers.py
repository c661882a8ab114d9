"""/timers: what is set (timers, alarms, reminders), soonest first, each with its time left.

x or Delete cancels the selected one; Esc closes. The list is read again every second, so the
time left counts down and a timer that rings (or one set elsewhere) leaves or joins it.
"""

from __future__ import annotations

import datetime as dt

from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from assistant.errors import ApprenticeError
from assistant.render import inert
from assistant.store import Store

NONE_SET = "No timers, alarms or reminders are set. Ask for one: “set a timer for 10 minutes”."


class TimersScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    TimersScreen { align: center middle; }
    TimersScreen > Vertical {
        width: 80;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        border-title-align: center;
        border-subtitle-align: center;
        background: $surface;
        padding: 0 1;
    }
    TimersScreen OptionList, TimersScreen OptionList:focus { height: auto; max-height: 16; border: none; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("x,delete", "cancel_timer", "Cancel the selected one"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.rows: list[dict] = []

    def compose(self):
        box = Vertical()
        box.border_title = "Timers, alarms and reminders"
        box.border_subtitle = "x or Del cancels the selected one · Esc closes"
        with box:
            yield OptionList(id="timers")

    def on_mount(self) -> None:
        self.reload()
        self.query_one(OptionList).focus()
        self.set_interval(1.0, self.reload)

    def reload(self) -> None:
        """Show what is pending now, keeping the selection on the same timer where it is still set."""
        from assistant.tools import rings

        options = self.query_one(OptionList)
        chosen = self.selected()
        try:
            self.rows = self.store.timers(status="pending")
        except ApprenticeError as exc:
            self.rows = []
            options.clear_options()
            options.add_option(Option(Content(str(exc)), disabled=True))
            return
        now = dt.datetime.now().astimezone()
        options.clear_options()
        if not self.rows:
            options.add_option(Option(Content(NONE_SET), disabled=True))
            return
        for row in self.rows:
            options.add_option(Option(Content(inert(rings.describe(row, now))), id=str(row["id"])))
        ids = [r["id"] for r in self.rows]
        options.highlighted = ids.index(chosen["id"]) if chosen and chosen["id"] in ids else 0

    def selected(self) -> dict | None:
        options = self.query_one(OptionList)
        index = options.highlighted
        return self.rows[index] if self.rows and index is not None and index < len(self.rows) else None

    def action_cancel_timer(self) -> None:
        from assistant.tools import ringer, rings

        row = self.selected()
        if row is None:
            self.notify("Nothing to cancel: no timer is set.", severity="warning")
            return
        try:
            cancelled = self.store.cancel_timer(row["id"])
        except ApprenticeError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        now = dt.datetime.now().astimezone()
        if cancelled:
            ringer.wake()  # it may have nothing left to ring, and go
            self.notify(
                inert(f"{row['kind'].capitalize()} {row['id']} ({rings.what(row, now)}) cancelled."), markup=False
            )
        else:
            self.notify(
                f"{row['kind'].capitalize()} {row['id']} rang or was cancelled already.",
                severity="warning",
                markup=False,
            )
        self.reload()

    def action_close(self) -> None:
        self.dismiss(None)
