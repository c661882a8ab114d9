"""The history sidebar: past conversations from the database, newest first, searchable.

Typing in the search box filters as you type (full text over questions and answers);
Enter or a click on a conversation opens it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from textual import on
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from assistant.errors import ApprenticeError
from assistant.render import inert
from assistant.store import Store


def when(stamp: str | None) -> str:
    """An ISO time from the store, in local time: `2025-01-15 09:30`."""
    try:
        return dt.datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return ""


class HistorySidebar(Vertical):
    DEFAULT_CSS = """
    HistorySidebar {
        width: 32;
        height: 1fr;
        border-right: vkey $primary;
        background: $surface;
        display: none;
    }
    HistorySidebar.-open { display: block; }
    HistorySidebar > #history-title { padding: 0 1; text-style: bold; }
    HistorySidebar > Input { margin: 0; }
    HistorySidebar > OptionList { height: 1fr; border: none; }
    """

    @dataclass
    class Opened(Message):
        """The user chose a conversation to continue."""

        conversation_id: int

    def __init__(self, store: Store, **kwargs) -> None:
        super().__init__(**kwargs)
        self.store = store

    def compose(self):
        yield Static("History", id="history-title")
        yield Input(placeholder="Search…", id="history-search", compact=True)
        yield OptionList(id="history-list")

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def toggle(self) -> None:
        self.set_class(not self.is_open, "-open")
        if self.is_open:
            self.reload()
            self.query_one("#history-search", Input).focus()

    def reload(self) -> None:
        search = self.query_one("#history-search", Input).value
        options = self.query_one("#history-list", OptionList)
        options.clear_options()
        try:
            rows = self.store.conversations(search=search or None)
        except ApprenticeError as exc:
            options.add_option(Option(Content(str(exc)), disabled=True))
            return
        if not rows:
            options.add_option(Option(Content("No matches." if search else "No conversations yet."), disabled=True))
            return
        for row in rows:
            title = " ".join(inert(row["title"] or "(untitled)").split())
            turns = f"{row['turns']} turn{'s' if row['turns'] != 1 else ''}"
            label = Content(title) + Content.styled(f"\n{when(row['updated'])} · {turns}", "$foreground-muted")
            options.add_option(Option(label, id=str(row["id"])))
        options.highlighted = 0  # Enter from the search box opens the newest match

    @on(Input.Changed, "#history-search")
    def search_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#history-search")
    def search_submitted(self) -> None:
        options = self.query_one("#history-list", OptionList)
        if options.option_count and not options.get_option_at_index(0).disabled:
            options.focus()

    @on(OptionList.OptionSelected, "#history-list")
    def conversation_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Opened(int(event.option.id)))
