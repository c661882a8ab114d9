"""Training rows balanced over the shapes of each tool's calls, so the student learns which arguments to fill.

A call's shape is its tool and the names of the arguments it fills: `clock(to_date)`, `clock(date)`,
`clock(place)` and `clock()` are four shapes of one tool, `timer(minutes)` and `timer(label,
minutes)` two of another. Which arguments to fill is read from the query, so each shape is a class
the student must tell apart, and a day's fallbacks hold them unevenly (the shipped benchmark's
traffic has about twice as many clock calls counting days to a date as asking a weekday). Trained
on that mix, a small student learns the common shape and guesses at the rare request ("What weekday
will June 11 be?" answered in words, "June 11 will be on Monday"). So the rarer shapes are
oversampled, as one does for a class imbalance: each row of a tool's rarer shape is repeated until
that shape has as many rows as the tool's most common one, at most `CAP` times. mlx-lm's trainer
has no per-row loss weight, and a row seen k times an epoch weighs k times in the loss.

Measured on day 2 of `apprentice bench distill --rounds 3` (the same 164 examples, the same day-1
student and seed, `--balance-calls` against `--no-balance-calls`, both at 0.75 of the lesson): the
student alone answered 82 of the 120 test queries right against 71 (timers 6 against 1 of 9, clock
7 against 5, alarms 8 against 6; calculate 7 against 9), and 25 against 23 of the 54 fresh ones;
unbalanced, the gate kept the candidate back (held-out 59% against 56% for day 1's student). A
label the user named is still dropped either way: "45 minute countdown for the pizza" is set as a
timer of 45 minutes.

Text answers and the rows that are not the teacher's (replayed answers, shipped local calls) are
left as they are.
"""

from __future__ import annotations

from collections import Counter

CAP = 3  # most times one row is seen: a single odd call is not learned as if it were common


def shape(row: dict) -> tuple[str, tuple[str, ...]] | None:
    """(tool, argument names) of the call a training row teaches; None for a text answer."""
    from assistant.tools.calls import parse_call

    call = parse_call(row["messages"][-1]["content"])
    if call is None:
        return None
    return call.name, tuple(sorted(call.arguments))


def balanced(rows: list[dict]) -> list[dict]:
    """`rows` with each row of a tool's rarer call shapes repeated (in place, order kept) until the
    shape has as many rows as the tool's most common shape, or the row is there `CAP` times."""
    shapes = [shape(row) for row in rows]
    counts = Counter(s for s in shapes if s)
    most = Counter()
    for (tool, _), n in counts.items():
        most[tool] = max(most[tool], n)
    out = []
    for row, s in zip(rows, shapes):
        times = 1 if s is None else min(CAP, -(-most[s[0]] // counts[s]))  # ceil(most / count)
        out += [row] * times
    return out
