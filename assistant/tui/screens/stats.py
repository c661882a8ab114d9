"""/stats: how many of your questions left this machine for the teacher, week by week.

The table `apprentice log stats` prints, read from this machine's log: each week's questions, how
many a request went out to the teacher for, that share with its 95% interval, and the students that
answered. Tab switches to one row per student version; Esc closes.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from assistant import usage
from assistant.errors import ApprenticeError
from assistant.store import Store

NONE_YET = "No questions logged yet: ask one, and this shows how many stayed on this machine."


class StatsScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    StatsScreen { align: center middle; }
    StatsScreen > Vertical {
        width: 110;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        border-title-align: center;
        border-subtitle-align: center;
        background: $surface;
        padding: 0 1;
    }
    StatsScreen Static { height: auto; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("tab", "switch", "By week or by student"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.by = "week"

    def compose(self):
        box = Vertical()
        box.border_title = "What left this machine"
        box.border_subtitle = "Tab: by week or by student · Esc closes"
        with box:
            yield Static(id="table", markup=False)

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        table = self.query_one("#table", Static)
        try:
            result = usage.count(self.store.traffic(), self.by)
        except ApprenticeError as exc:
            table.update(str(exc))
            return
        table.update(usage.report(result) if result["periods"] else NONE_YET)

    def action_switch(self) -> None:
        self.by = "student" if self.by == "week" else "week"
        self.show()

    def action_close(self) -> None:
        self.dismiss(None)
