"""Make model output safe to show: control characters and escape sequences stay inert.

A model can emit ESC sequences that a terminal would execute (retitle the window,
move the cursor, hide text). Every surface shows answers through `inert`, which
turns C0/C1 control characters (but newline and tab) into visible symbols. Text that is
kept or shown is first `whole`: a lone surrogate can be neither stored nor printed.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _picture(match: re.Match) -> str:
    code = ord(match.group())
    if code == 0x7F:
        return "\u2421"  # ␡
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␍ for CR…
    return "\ufffd"  # C1 controls have no picture


def inert(text: str) -> str:
    return _CONTROL.sub(_picture, text)


def whole(text: str) -> str:
    """`text` with each lone surrogate (bad bytes read as text, or a JSON "\\ud800") made U+FFFD."""
    return text.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")
