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

CHECKS = ("exact", "contains", "number", "json", "similar")
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
) -> bool:
    """Is `answer` right against `reference` under check `kind` (one of CHECKS)?"""
    answer = answer or ""
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
