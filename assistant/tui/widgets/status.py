"""The status bar: privacy mode, active student version (and "served" when `apprentice serve` answers),
its speed on the last local answer, Gemini key.

Privacy is always visible: when a mode that could send queries out has no key to do it
with, the bar says the mode acts as private.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from assistant.render import inert

MODE_STYLE = {"private": "bold $text-success", "ask": "bold $text-warning", "auto": "bold $text-error"}
MODE_ICON = {"private": "⌂", "ask": "?", "auto": "☁"}


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    """

    mode: reactive[str] = reactive("private")
    has_key: reactive[bool] = reactive(False)
    student: reactive[str | None] = reactive(None)
    tokens_per_s: reactive[float | None] = reactive(None)
    busy: reactive[str] = reactive("")  # "answering", "loading the student"… or ""
    served: reactive[bool] = reactive(False)  # a running `apprentice serve` answers, with its student

    def render(self) -> Content:
        acts_private = self.mode != "private" and not self.has_key
        parts = [
            Content.styled(f"{MODE_ICON[self.mode]} {self.mode}", MODE_STYLE[self.mode])
            + (Content.styled(" (no key: private)", "$foreground-muted") if acts_private else Content("")),
            (Content(f"student {inert(self.student)}") if self.student else Content.styled("no student", "$text-error"))
            + (Content.styled(" · served", "$foreground-muted") if self.served else Content("")),
            Content(f"{self.tokens_per_s:.1f} tok/s" if self.tokens_per_s is not None else "– tok/s"),
            Content("Gemini key set") if self.has_key else Content.styled("no Gemini key", "$foreground-muted"),
        ]
        if self.busy:
            parts.append(Content.styled(self.busy, "italic $text-accent"))
        return Content(" │ ").join(parts)
