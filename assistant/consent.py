"""Asking the person at the terminal whether a query may go to the teacher (ask mode).

The question goes to the terminal itself (/dev/tty), not stdin/stdout, so it works while
stdin carries the query or the audio and stdout the JSON. With no terminal there is no one
to ask: `terminal_consent()` returns None and the Assistant keeps the query local, saying so.

    python -m assistant.consent "What's the weather in Paris tomorrow?"   # try the prompt
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from assistant.render import inert


def ask(text: str) -> bool:
    """Show exactly what would leave the machine and ask; anything but yes is no."""
    with open("/dev/tty", "r+") as tty:
        rule = "─" * 60
        tty.write(f"\nThe student may not know this. Gemini would receive exactly:\n{rule}\n{inert(text)}\n{rule}\n")
        tty.write("Send this to Gemini? [y/N] ")
        tty.flush()
        return tty.readline().strip().lower() in ("y", "yes")


def terminal_consent() -> Callable[[str], bool] | None:
    """`ask` when a terminal is there to answer, else None."""
    try:
        with open("/dev/tty", "r+"):
            return ask
    except OSError:
        return None


if __name__ == "__main__":
    consent = terminal_consent()
    print("no terminal" if consent is None else ("send" if consent(" ".join(sys.argv[1:])) else "keep local"))
