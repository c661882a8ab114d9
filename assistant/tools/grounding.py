"""Whether a tool call's numbers are the ones the user said: a check of a call against its query.

A small student is often sure of a call whose numbers it made up or dropped: "How long until
April 9?" written as clock(to_date="April 9, 2022"), "Deduct 12 from 127" as calculate("12 + 12"),
"Add up 245, 118 and 37" as calculate("245 + 118"). The call validates and runs, and its mean
log-probability is as high as a right one's, so the cascade line cannot see it. The numbers can:
a call that carries a number the query does not hold, or leaves out one it does, is not what the
user asked for, and the cascade sends it to the teacher instead (`CascadeStep.sure`).

Number words count as the user said them ("two and a half minutes" is 2.5, "an hour" is 1), and a
few words imply one a call may write out ("half of 90" is 90 / 2, "15 squared" is 15^2). A 0 or a 1
may be left unsaid either way ("the day after Sunday" is days=1, "7 o'clock" is 7:00, "quick one"
holds no number to compute with). What the check costs
is a right call that writes a number in another form than the user's ("half an hour" as 30
minutes, "Christmas" as 2026-12-25): it goes to the teacher, and nothing wrong is kept.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.tools.calls import ToolCall

NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
UNSAID = {0.0, 1.0}  # numbers a call may hold, or leave out, that a query often leaves to be understood
# Words that say a number a call may write out: "half of 90" is 90 / 2, "15 squared" is 15^2.
IMPLIED = {
    "half": (2.0, 0.5),
    "halve": (2.0, 0.5),
    "quarter": (4.0, 0.25),
    "third": (3.0,),
    "double": (2.0,),
    "twice": (2.0,),
    "triple": (3.0,),
    "squared": (2.0,),
    "square": (2.0,),
    "cubed": (3.0,),
    "cube": (3.0,),
    "percent": (100.0,),
    "dozen": (12.0,),
}


def unsaid_numbers(query: str, call: ToolCall) -> str | None:
    """Why `call` does not hold the numbers of `query` (a sentence for the router's reason), or None."""
    from assistant.tools.fastpath import words_to_digits

    said = _numbers(words_to_digits(query))
    implied = {n for word in re.findall(r"[a-z]+", query.lower()) for n in IMPLIED.get(word, ())}
    used = _numbers(" ".join(_texts(call.arguments)))
    extra = [n for n in used if n not in said and n not in implied and n not in UNSAID]
    missing = [n for n in said if n not in used and n not in UNSAID]
    if extra:
        return f"its call holds {_show(extra)}, which you did not say"
    if missing:
        return f"its call leaves out {_show(missing)}"
    return None


def _numbers(text: str) -> list[float]:
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 is one number
    found = []
    for match in NUMBER.finditer(text):
        value = abs(float(match.group(0)))  # "-1 days" and "the day before" both say 1
        if value not in found:
            found.append(value)
    return found


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, bool) or value is None:
        return []
    return [str(value)]


def _show(numbers: list[float]) -> str:
    return " and ".join(str(int(n)) if n == int(n) else str(n) for n in numbers)
