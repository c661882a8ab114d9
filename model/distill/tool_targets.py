"""A teacher's sentence that a tool reproduces, taught as the call that computes it.

A small student cannot compute, but it can learn to choose a tool. The teacher often answers
arithmetic and conversions in words that hold the computation itself: "44 ÷ 4 = 11.",
"50% of 400 is 200.", "4 meters is 13.12 feet." Taught those words, the student learns the
shape of the sentence and makes up the number ("12 ÷ 3 = 36"). Taught the call, it learns to
hand the numbers to the tool, which computes them for any numbers.

Weekdays are the same: "3 days after Monday is Thursday." taught as words is recited for the
wrong day; taught as clock(date="Monday", days=3) it is counted.

So a teacher's answer that is one such sentence, and nothing else, is read back into a call
(assistant/tools/reproduced.py: `calculate` with the left side of the equation; `convert` with the
value and the two units; `clock` with the weekday counted from and the days counted on, negative
for "before", or the month asked about), the call is validated and run here, and only when the tool
shows the teacher's number, weekday or month is the example taught as the call (Toolformer, Schick
et al. 2023, keeps a call where its result gives the answer). The teacher's number agrees when it
is the tool's rounded to the teacher's own precision, or within half a percent of it. Anything
else, a longer answer, a call the tool refuses, or a number or day that disagrees, is taught as the
teacher said it. The three tools
are pure functions of their arguments (a weekday counted on from a weekday is the same whatever
today is): nothing leaves the machine and nothing is stored.
"""

from __future__ import annotations

import re

from assistant.tools.calls import format_call
from assistant.tools.clock import WEEKDAYS
from assistant.tools.grounding import weekday_counted
from assistant.tools.reproduced import agrees, checked, target

__all__ = ["agrees", "supposed_target", "target", "targets"]


def targets(examples) -> dict[int, str]:
    """Example id → the call to teach, for each example whose teacher's answer a tool reproduces."""
    return {ex.id: call for ex in examples if (call := target(ex.answer) or supposed_target(ex.query, ex.answer))}


def supposed_target(query: str, answer: str) -> str | None:
    """The clock call that counts on from a weekday the user supposes or counts from ("If today is
    Saturday, what day is it tomorrow?" → clock(date="Saturday", days=1), "five days after a thursday"
    → clock(date="Thursday", days=5)), when the teacher's one-sentence answer names
    the weekday it shows ("Tomorrow is Sunday."); None otherwise. Unlike `target`, this needs the
    query: the answer alone does not say which day was counted from."""
    if not answer or "\n" in answer.strip() or len(answer) > 80 or (supposed := weekday_counted(query)) is None:
        return None
    start, days = supposed
    said = {day for day in WEEKDAYS if re.search(rf"\b{day}\b", answer, re.I)} - {start.lower()}
    if len(said) != 1:
        return None
    call = checked("clock", {"date": start, "days": days}, said.pop())
    return format_call(call) if call else None
