"""The conversation: each question, and each answer with a badge saying where it came from.

An answer's first line is its badge (the local student and its version, Gemini and its
model, or for an answer a tool gave, the action: `⚙ timer · 10 min`) followed by the
router's reason; it expands to the details: the tool call, score, speed, notes, and for a
cloud answer the exact (redacted) text that was sent. The text streams into a
`Markdown` through `Markdown.get_stream()` and ends with one full `update()`. Everything
shown passes through `inert`, so an answer can never drive the terminal.
"""

from __future__ import annotations

import json
import re

from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Collapsible, Markdown, Static

from assistant.render import inert
from assistant.turns import turn_fields

PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*_\d+\]")  # what redaction puts in place of private data
WELCOME = (
    "Ask anything. The local student answers on this machine; Gemini is asked only when "
    "the privacy mode allows it. /help lists commands and keys."
)


def badge(route: str | None, model: str | None) -> Content:
    """`⌂ local · base` or `☁ Gemini · gemini-2.5-flash`: where an answer came from.

    Any other route (none yet, or "cascade": the student answers first, unshown, and its
    confidence decides) is not an answer's origin yet."""
    if route == "cloud":
        return Content.styled(f"☁ Gemini · {inert(model or '?')}", "bold $text-warning")
    if route == "local":
        return Content.styled(f"⌂ local · {inert(model or '?')}", "bold $text-success")
    return Content.styled("… thinking", "$foreground-muted")


def action_badge(action: dict) -> Content:
    """`⚙ timer · 10 min` for a call that ran; `⚙ timer · not run` when it could not run (its
    sentence is the answer). A turn logged before actions carried a badge shows the tool's name."""
    name = inert(action.get("name") or "tool call")
    if action.get("result") is None:
        return Content.styled(f"⚙ {name} · not run", "bold $text-error")
    return Content.styled(f"⚙ {inert(action.get('badge') or name)}", "bold $text-primary")


def call_text(action: dict) -> str:
    """The call as it ran: `timer(seconds=600)`."""
    arguments = action.get("arguments") or {}
    shown = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items())
    return f"{action.get('name') or '(unreadable call)'}({shown})"


def with_placeholders(text: str) -> Content:
    """`text` made inert, with redaction placeholders such as [EMAIL_1] standing out."""
    text = inert(text)
    content, last = Content(""), 0
    for match in PLACEHOLDER.finditer(text):
        content += Content(text[last : match.start()])
        content += Content.styled(match.group(), "bold reverse $text-warning")
        last = match.end()
    return content + Content(text[last:])


def _number(value, unit: str, digits: int = 1) -> str | None:
    return f"{value:.{digits}f} {unit}" if isinstance(value, (int, float)) else None


class QueryMessage(Static):
    """What the user asked."""

    def __init__(self, text: str) -> None:
        super().__init__(Content("› ") + Content(inert(text)), markup=False)


class AnswerView(Vertical, can_focus=True):
    """One answer: badge and reason (expandable), the Markdown text, and its notes."""

    BINDINGS = [Binding("c", "copy", "Copy this answer")]

    def __init__(self) -> None:
        super().__init__()
        self.text = ""  # the raw answer, for copying
        self.result: dict | None = None
        self.turn_id: int | None = None
        self._route: str | None = None
        self._model: str | None = None
        self._reason = ""
        self._action: dict | None = None  # {"name", "arguments", "result", "badge"} when a tool answered
        self._stream = None
        self._marked_bad = False

    def compose(self):
        yield Collapsible(Static(id="details", markup=False), title=badge(None, None), collapsed=True)
        yield Markdown(id="answer-text")
        yield Static(id="answer-notes", markup=False)

    # -- the badge line and its details ----------------------------------------------

    def _refresh_badge(self) -> None:
        title = action_badge(self._action) if self._action else badge(self._route, self._model)
        if self.result and self.result.get("served"):  # answered by a running `apprentice serve`
            title += Content.styled(" · served", "$foreground-muted")
        if self._reason:
            title += Content.styled(f"  {inert(self._reason)}", "$foreground-muted")
        if self._marked_bad:
            title += Content.styled("  ✗ marked wrong", "bold $text-error")
        self.query_one(Collapsible).title = title

    def _refresh_details(self, result: dict | None, sent: str | None, score=None) -> None:
        lines: list[Content] = []
        if self._reason:
            lines.append(Content(f"why: {inert(self._reason)}"))
        if self._action:
            lines.append(Content(f"call: {inert(call_text(self._action))}"))
            if self._action.get("error"):
                lines.append(Content.styled(f"not run: {inert(self._action['error'])}", "$text-error"))
        facts = [
            f"turn #{self.turn_id}" if self.turn_id is not None else "not logged",
            f"score {score:.2f}" if isinstance(score, (int, float)) else None,
            f"{result.get('tokens')} tokens"
            if result and result.get("tokens") is not None and (result.get("tokens") or not self._action)
            else None,  # a tool's answer generates nothing: "0 tokens" would only be noise
            _number(result and result.get("tokens_per_s"), "tok/s"),
            _number(result and result.get("ttft_ms"), "ms to first token", 0),
        ]
        lines.append(Content(" · ".join(f for f in facts if f)))
        if sent:
            lines.append(Content("sent to Gemini: ") + with_placeholders(sent))
        self.query_one("#details", Static).update(Content("\n").join(lines))

    def set_route(self, route: str, model: str, reason: str) -> None:
        self._route, self._model, self._reason = route, model, reason or ""
        self._refresh_badge()

    def mark_bad(self) -> None:
        self._marked_bad = True
        self._refresh_badge()

    # -- the text ---------------------------------------------------------------------

    async def write(self, chunk: str) -> None:
        """Append a streamed chunk (made inert here)."""
        self.text += chunk
        if self._stream is None:
            self._stream = Markdown.get_stream(self.query_one("#answer-text", Markdown))
        await self._stream.write(inert(chunk))

    async def finish(self, result: dict, sent: str | None = None, score=None) -> None:
        """End the stream with one full update, and show where the answer came from."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self.result = result
        self.turn_id = result.get("turn_id")
        self.text = result.get("answer", self.text)
        self._action = result.get("action") or None
        self.set_class(bool(self._action) and self._action.get("result") is None, "-failed", "-action-failed")
        self.set_route(result.get("route"), result.get("model"), result.get("reason"))
        await self.query_one("#answer-text", Markdown).update(inert(self.text) or "*(no answer)*")
        self.show_notes(result.get("notes") or [])
        self._refresh_details(result, sent, score)

    def show_notes(self, notes: list[str]) -> None:
        widget = self.query_one("#answer-notes", Static)
        widget.update(Content("\n".join(f"note: {inert(n)}" for n in notes)))
        widget.display = bool(notes)

    async def fail(self, message: str) -> None:
        """The answer could not start or broke off: say why, in place of the badge."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self.add_class("-failed")
        self.query_one(Collapsible).title = Content.styled(inert(message), "bold $text-error")
        if self.text:
            await self.query_one("#answer-text", Markdown).update(inert(self.text))

    async def show_turn(self, row: dict, sent: str | None = None) -> None:
        """Show a finished turn read back from the store."""
        await self.finish(turn_fields(row), sent, score=row.get("score"))
        if row.get("bad"):
            self.mark_bad()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify(f"Copied the answer ({len(self.text)} characters).")


class Conversation(VerticalScroll):
    """The questions and answers of one conversation, newest at the bottom."""

    def compose(self):
        yield Static(WELCOME, id="welcome", markup=False)

    def answers(self) -> list[AnswerView]:
        return list(self.query(AnswerView))

    def last_answer(self) -> AnswerView | None:
        answers = self.answers()
        return answers[-1] if answers else None

    async def add_exchange(self, query: str) -> AnswerView:
        """Show a question and an empty answer under it; stream into the answer."""
        self.query_one("#welcome").display = False
        answer = AnswerView()
        await self.mount_all([QueryMessage(query), answer])
        self.anchor()
        return answer

    async def clear(self) -> None:
        await self.query("QueryMessage, AnswerView").remove()
        self.query_one("#welcome").display = True

    async def show_turns(self, rows: list[dict], sent: dict[int, str | None] | None = None) -> None:
        """Replace what is shown by the turns of a stored conversation (`sent`: what left, by turn id)."""
        await self.clear()
        for row in rows:
            answer = await self.add_exchange(row["query"])
            await answer.show_turn(row, (sent or {}).get(row["id"]))
        self.scroll_end(animate=False)
