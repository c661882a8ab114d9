"""The help screen: every key binding and slash command, from the one table in commands.py."""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from assistant.tui.commands import COMMANDS, KEYS


def help_rows() -> list[tuple[str, str] | str]:
    """Headings (str) and (keys or usage, what it does) rows."""
    rows: list[tuple[str, str] | str] = ["Keys", *KEYS, "Commands: type them in the prompt, or find them with Ctrl+P"]
    rows += [(f"/{c.name} {c.args}".rstrip(), c.help) for c in COMMANDS]
    return rows


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 100;
        height: auto;
        max-height: 90%;
        border: round $primary;
        border-title-align: center;
        border-subtitle-align: center;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen .heading { text-style: bold; color: $text-primary; margin-top: 1; }
    HelpScreen .heading.-first { margin-top: 0; }
    HelpScreen Horizontal { height: auto; }
    HelpScreen .keys { width: 22; text-style: bold; }
    HelpScreen .what { width: 1fr; }
    """

    BINDINGS = [Binding("escape,f1,q", "close", "Close help")]

    def compose(self):
        scroll = VerticalScroll()
        scroll.border_title = "Apprentice help"
        scroll.border_subtitle = "Esc closes"
        with scroll:
            for i, row in enumerate(help_rows()):
                if isinstance(row, str):
                    yield Static(row, classes="heading -first" if i == 0 else "heading", markup=False)
                else:
                    with Horizontal():
                        yield Static(row[0], classes="keys", markup=False)
                        yield Static(row[1], classes="what", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
