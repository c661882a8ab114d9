"""Answer checks for benchmark lines and checkable references: is this answer right?

A benchmark line says how its answer is checked (`check`):

| check      | right when                                                                        |
|------------|-----------------------------------------------------------------------------------|
| `exact`    | the answer, lower-cased, without surrounding quotes, spaces and end punctuation, is the reference |
| `contains` | every word of the reference appears, in order, in the answer (the judge's rule)   |
| `number`   | a number in the answer is within `tolerance` (relative, default 1%) of the reference's |
| `json`     | the answer (or its one fenced code block) parses as JSON equal to the reference's;     |
|            | strings compare without case                                                           |
| `similar`  | the answers' embeddings have cosine similarity of at least `threshold` (default: the judge's 0.75) |
| `call`     | the answer holds the reference's tool call (`judge_calls`: the same tool, the same normalized |
|            | arguments), or its text contains `executed`, what running the reference call shows     |

An action line, {"query", "call": {"name", "arguments"}, "family"}, is read (model/dataset.py's
`read_tasks`) with the `call` check and the call's canonical text (`format_call`) as its reference.

`infer(reference)` picks the check a teacher's answer allows when nothing says which: JSON
for a JSON object or array, a number for a bare number, else None (the judge decides).

    python -m model.bench.checks json '{"a": 1}' '```json\n{"a":1}\n```'
"""

from __future__ import annotations

import json
import math
import re
import sys

from assistant.judge import AGREE_SIMILARITY, contains_reference

CHECKS = ("exact", "contains", "number", "json", "similar", "call")
NUMBER_TOLERANCE = 0.01  # relative
NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+")
FENCE = re.compile(r"^```[\w-]*\s*\n?(.*?)\n?```$", re.DOTALL)


def normalize(text: str) -> str:
    """Lower case, single spaces, no surrounding quotes or end punctuation."""
    text = " ".join(text.split()).lower()
    return text.strip(" \"'`“”‘’").rstrip(".!?;:,").strip(" \"'`“”‘’")


def numbers(text: str) -> list[float]:
    return [float(m.replace(",", "")) for m in NUMBER.findall(text)]


def parse_json(text: str):
    """The JSON value an answer holds: the whole answer, or its one fenced code block; else raise ValueError."""
    text = text.strip()
    if m := FENCE.match(text):
        text = m.group(1).strip()
    return json.loads(text)


def _same_json(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b))
    if isinstance(a, str) and isinstance(b, str):
        return normalize(a) == normalize(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def check(
    answer: str,
    reference: str,
    kind: str,
    *,
    tolerance: float | None = None,
    threshold: float | None = None,
    embedder=None,
    executed: str | None = None,
) -> bool:
    """Is `answer` right against `reference` under check `kind` (one of CHECKS)?

    `executed`, for the `call` check: the text running the reference call shows; an answer that
    contains it is right though it made no call (a teacher, or a student, that answered in words)."""
    answer = answer or ""
    if kind == "call":
        return right_call(answer, reference, executed)
    if kind == "exact":
        return normalize(answer) == normalize(reference)
    if kind == "contains":
        return contains_reference(answer, reference)
    if kind == "number":
        wanted = numbers(reference)
        if not wanted:
            raise ValueError(f"the reference {reference!r} holds no number")
        tol = NUMBER_TOLERANCE if tolerance is None else tolerance
        return any(math.isclose(n, wanted[0], rel_tol=tol, abs_tol=1e-9) for n in numbers(answer))
    if kind == "json":
        try:
            return _same_json(parse_json(answer), parse_json(reference))
        except ValueError:
            return False
    if kind == "similar":
        if not answer.strip():
            return False
        from assistant.embedder import shared

        a, b = (embedder or shared()).encode([answer.strip(), reference.strip()])
        return float(a @ b) >= (AGREE_SIMILARITY if threshold is None else threshold)
    raise ValueError(f"unknown check {kind!r}: use one of {', '.join(CHECKS)}")


def right_call(answer: str, reference: str, executed: str | None = None) -> bool:
    """The `call` check: the answer's call is the reference's, or its text holds what the reference's gives."""
    from assistant.judge import judge_calls

    if judge_calls(answer, reference).agree:
        return True
    return bool(executed and executed.strip()) and _holds(answer, executed)


def _holds(answer: str, executed: str) -> bool:
    """Whether the answer says what running the call said: its words in order, and its numbers."""
    if contains_reference(answer, executed):
        return True
    wanted = numbers(executed)
    return bool(wanted) and all(any(math.isclose(n, w, rel_tol=1e-3) for n in numbers(answer)) for w in wanted)


def infer(reference: str) -> str | None:
    """The check a reference allows on its own: `json`, `number`, or None (let the judge decide)."""
    text = reference.strip()
    if text[:1] in "{[" or text.startswith("```"):
        try:
            value = parse_json(text)
        except ValueError:
            return None
        return "json" if isinstance(value, (dict, list)) else None
    if re.fullmatch(r"[-+]?[\d,]*\.?\d+", text):
        return "number"
    return None


if __name__ == "__main__":
    kind, reference, answer = sys.argv[1:4]
    print(check(answer, reference, kind))
