"""Training rows balanced over the shapes of each tool's calls, so an argument the user named is learned.

A call's shape is its tool and the names of the arguments it fills: `timer(minutes)` and
`timer(label, minutes)` are two shapes of one tool. Users name a label less often than not, so a
day's fallbacks hold, say, 25 timers with minutes only and 15 with a label too. Trained on that
mix, a small student learns the common shape and drops the label it was told ("a 2 minute timer
for the pasta" set as a timer of 2 minutes), and it is as sure of that call as of a right one: a
wrong answer the cascade keeps. Which arguments to fill is read from the query, so each shape is
a class the student must tell apart, and the rarer one is oversampled (as one does for a class
imbalance): each row of a tool's rarer shape is repeated until that shape has as many rows as the
tool's most common one, at most `CAP` times. mlx-lm's trainer has no per-row loss weight, and a
row seen k times an epoch weighs k times in the loss.

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
