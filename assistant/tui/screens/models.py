"""Choosing the student: every version on disk, the active one marked; Enter makes one active."""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class ModelScreen(ModalScreen[str | None]):
    """Dismisses with the chosen version's name, or None."""

    DEFAULT_CSS = """
    ModelScreen { align: center middle; }
    ModelScreen > Vertical {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    ModelScreen OptionList { height: auto; max-height: 14; border: none; }
    """

    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, versions: list, active: str | None) -> None:
        super().__init__()
        self.versions = versions
        self.active = active

    def compose(self):
        with Vertical():
            yield Static("Student versions: Enter makes one active, Esc keeps the current one.", markup=False)
            options = []
            for v in self.versions:
                mark = "● " if v.name == self.active else "  "
                bits = f"{v.bits} bits" if v.bits else "? bits"
                label = Content.styled(f"{mark}{v.name}", "bold" if v.name == self.active else "")
                label += Content.styled(f"  {bits} · {v.source}"[:60], "$foreground-muted")
                options.append(Option(label, id=v.name))
            yield OptionList(*options, id="versions")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = [v.name for v in self.versions]
        if self.active in names:
            options.highlighted = names.index(self.active)

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)
