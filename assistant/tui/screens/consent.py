"""Consent before anything leaves the machine: the exact redacted text, "Send to Gemini" or "Keep local".

"Keep local" is the default button: Enter or Esc right away keeps the query on this machine.
The screen dismisses with True only when the user chooses to send.
"""

from __future__ import annotations

from textual import on
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from assistant.tui.widgets.conversation import with_placeholders


class ConsentScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConsentScreen { align: center middle; }
    ConsentScreen > Vertical {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $warning;
        background: $surface;
        padding: 0 1;
    }
    ConsentScreen #consent-title { text-style: bold; color: $text-warning; }
    ConsentScreen #consent-text {
        height: auto;
        max-height: 10;
        border: round $primary;
        padding: 0 1;
        margin: 1 0 0 0;
    }
    ConsentScreen #consent-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    ConsentScreen Button { margin-left: 2; }
    """

    AUTO_FOCUS = "#keep-local"
    BINDINGS = [Binding("escape", "keep_local", "Keep local")]

    def __init__(self, text: str, forced: bool = False) -> None:
        super().__init__()
        self.text = text
        self.forced = forced

    def compose(self):
        why = (
            "You asked for Gemini (/cloud)."
            if self.forced
            else "The router judged this query too hard for the student."
        )
        with Vertical():
            yield Static("Send this to Gemini?", id="consent-title")
            yield Static(
                f"{why} Exactly the text below would leave this machine; private data is "
                "already replaced by placeholders. Keep local to let the student answer.",
                markup=False,
            )
            with VerticalScroll(id="consent-text"):
                yield Static(with_placeholders(self.text), markup=False)
            with Horizontal(id="consent-buttons"):
                yield Button("Keep local", id="keep-local", variant="primary")
                yield Button("Send to Gemini", id="send", variant="warning")

    def on_mount(self) -> None:
        text = self.query_one("#consent-text")
        self.call_after_refresh(text.scroll_end, animate=False)  # the new query comes last

    @on(Button.Pressed, "#send")
    def send(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#keep-local")
    def action_keep_local(self) -> None:
        self.dismiss(False)
