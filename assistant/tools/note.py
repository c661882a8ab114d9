"""The note tool: remember a note, and find notes again by their words.

Notes are personal data. They are kept in the store's `notes` table, searched with its
full-text index (stemmed, so "boilers" finds "boiler"), and never leave this machine:
the tool is `local_only`, so a query about notes is answered here in every mode, and
neither a note nor a search result is ever part of what the teacher is sent.

    python -m assistant.tools.note "the boiler code is 4312"    # remember
    python -m assistant.tools.note --find boiler                 # find
"""

from __future__ import annotations

import datetime as dt
import re
import sys

from assistant.tools import ToolContext, ToolError, ToolResult, tool
from assistant.tools.calls import ToolCall

MAX_NOTE = 2000  # characters: a note, not a document
FOUND_LIMIT = 5
# Words of a question that say nothing about what was noted.
STOPWORDS = set(
    """a an the i me my mine we our you your it its is are was were be been am do did does done have has had
    what which who whom whose when where why how that this these those there here about of on in at to for from
    with by as and or not no any some all note notes noted noting remember remembered say said tell write wrote
    written down save saved store stored keep kept jot jotted anything something things thing again please""".split()
)


@tool("note", local_only=True)
def note(ctx: ToolContext, text: str | None = None, find: str | None = None) -> ToolResult:
    """Remember a note, or find notes by their words. Notes never leave this machine.

    Args:
      text: the note to remember, e.g. "the boiler code is 4312"
      find: words to look for in earlier notes, e.g. "boiler"
    """
    if text and find:
        raise ToolError("A note call either remembers text or finds notes, not both; ask for one at a time.")
    if text:
        return _remember(ctx, text)
    return _find(ctx, find or "")


def _remember(ctx: ToolContext, text: str) -> ToolResult:
    text = " ".join(text.split())
    if len(text) > MAX_NOTE:
        raise ToolError(f"That note is {len(text):,} characters; keep a note under {MAX_NOTE:,}.")
    note_id = ctx.store.add_note(text)
    data = {"id": note_id, "text": text}
    return ToolResult("note", {"text": text}, data, f"Noted: {text}", "note · saved")


def _find(ctx: ToolContext, query: str) -> ToolResult:
    words = search_words(query)  # none ("what did I note?"): the latest notes
    # the notes that hold every word first ("locker number": not each note with a number in it)
    found = (
        ctx.store.find_notes(words, limit=FOUND_LIMIT, every=True) or ctx.store.find_notes(words, limit=FOUND_LIMIT)
        if words
        else ctx.store.notes(limit=FOUND_LIMIT)
    )
    arguments = {"find": query} if query.strip() else {}
    topic = " ".join(words)
    data = {"query": topic, "notes": [{"id": n["id"], "text": n["text"], "created": n["created"]} for n in found]}
    if not found:
        text = f"No note mentions {topic}." if words else "You have no notes yet."
        return ToolResult("note", arguments, data, text, "note · none found")
    if len(found) == 1:
        only = found[0]
        text = f"You noted {_when(only['created'], ctx.now)}: {only['text']}"
    else:
        lead = f"Your notes about {topic}:" if words else "Your latest notes:"
        text = lead + "".join(f"\n- {n['text']} ({_when(n['created'], ctx.now)})" for n in found)
    return ToolResult("note", arguments, data, text, f"note · {len(found)} found")


# A question about the user's own things: "What's my locker number?", "Where is my bike?"
MY_THING = re.compile(
    r"^\s*(?:what|where|when|which|who)(?:'s|\s+is|\s+are|\s+was|\s+were)\s+my\s+"
    r"(?P<thing>[\w' -]{1,60}?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)


def recall(store, query: str) -> ToolCall | None:
    """The note call that answers a question about the user's own things from a note holding every
    word of that thing ("What's my locker number?" and the note "my locker is number 214"), else None.

    Only the user can have told this machine their locker number: a model asked it makes one up.
    A question no note answers is left to the models as any other."""
    found = MY_THING.match(query or "")
    words = search_words(found["thing"]) if found else []
    if not words or not store.find_notes(words, limit=1, every=True):
        return None
    return ToolCall("note", {"find": found["thing"]})


def search_words(query: str) -> list[str]:
    """The words of a question that can be in the note ("what did I note about the boiler?" -> ["boiler"])."""
    words = re.findall(r"[\w'-]+", query.lower())
    return [w.strip("'-") for w in words if w.strip("'-") and w.strip("'-") not in STOPWORDS]


def _when(created: str, now: dt.datetime) -> str:
    """'today', 'yesterday', or the date, in the user's zone."""
    try:
        made = dt.datetime.fromisoformat(created).astimezone(now.tzinfo)
    except (TypeError, ValueError):
        return "earlier"
    days = (now.date() - made.date()).days
    if days == 0:
        return f"today at {made:%H:%M}"
    if days == 1:
        return f"yesterday at {made:%H:%M}"
    return f"on {made.day} {made:%B %Y}"


if __name__ == "__main__":
    from assistant.tools import on_command_line

    args = sys.argv[1:]
    found = args[:1] == ["--find"]
    sys.exit(on_command_line(note, **{"find" if found else "text": " ".join(args[1:] if found else args)}))
