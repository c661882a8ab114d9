"""What the `apprentice` command prints, and where: the answer (or one JSON object) on stdout,
everything else on stderr.

The contract (docs/CONTRACTS.md): with `--json`, stdout holds one JSON object and nothing
else; notes, warnings and progress go to stderr, and an answer's notes also go into its
`"notes"`. Library modules never print: they return, raise, or take a callback, and the
command-line surfaces (cli.py, voice.py) hand them `say`.

    say("Listening…")                 # stderr
    shown = ShownAnswer(answer, before=notes)
    shown.stream()                    # notes known so far, the text as it arrives, later notes
    emit_answer(result)               # --json: notes to stderr, the object to stdout
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import click


def say(message: str) -> None:
    """Notes and progress go to stderr, so stdout stays the answer (or the JSON)."""
    click.echo(message, err=True)


def emit_json(obj) -> None:
    """One JSON object (or array) on stdout: what `--json` promises."""
    # JSON escapes C0 controls itself but leaves DEL and the C1 range (0x9b starts a CSI sequence on
    # terminals that read 8-bit controls) raw: escape those too, so the object stays inert on a screen.
    text = json.dumps(obj, ensure_ascii=False, indent=2)
    click.echo(re.sub(r"[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", text))


def show_notes(notes: Iterable[str], shown: set[str] | None = None) -> None:
    """Each note as `note: …` on stderr; those already in `shown` are skipped, and the rest added to it."""
    for note in notes:
        if shown is not None:
            if note in shown:
                continue
            shown.add(note)
        say(f"note: {note}")


def emit_answer(result: dict) -> None:
    """`--json`: the notes on stderr for whoever watches, then the answer object on stdout."""
    show_notes(result["notes"])
    emit_json(result)


class ShownAnswer:
    """One answer as the terminal shows it: its text streams to stdout, and its notes go to
    stderr as soon as they are known (a note about the route before the text, one about a
    failure after it), each once.

    `before` holds notes from setting up the question (an ignored setting, no conversation to
    continue): shown first, and first in the answer's `"notes"`.
    """

    def __init__(self, answer, before: Iterable[str] = ()):
        self.answer = answer
        self.before = list(before)
        self._shown: set[str] = set()

    def notes(self, notes: Iterable[str] | None = None) -> None:
        """Show the notes not shown yet: the answer's own, or `notes` (a result's, which may have grown)."""
        show_notes([*self.before, *(self.answer.notes if notes is None else notes)], self._shown)

    def stream(self) -> None:
        """Print the text as it arrives, control characters made inert, with the notes around it."""
        from assistant.render import inert

        self.notes()
        for chunk in self.answer:
            click.echo(inert(chunk), nl=False)
        click.echo()
        self.notes()

    def wait(self) -> None:
        """Let the whole answer arrive without printing it (for `--json`)."""
        for _ in self.answer:
            pass

    def result(self) -> dict:
        """The answer object of docs/CONTRACTS.md, the setup notes first in its `"notes"`."""
        result = self.answer.result()
        return {**result, "notes": self.before + [n for n in result["notes"] if n not in self.before]}
