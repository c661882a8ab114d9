"""Is a query the one just asked, said again or in other words? Weak evidence the answer was wrong.

A user who asks again right after a local answer, in the same conversation, may not have liked
it. Two queries are taken as the same question when their embeddings (assistant/embedder.py) have
a cosine similarity of at least `rephrase_similarity` and they hold the same numbers ("17 times 23"
and "17 times 24" embed almost alike).

Measured on tests/data/rephrases.jsonl (`python -m model.bench.rephrase`): the threshold was chosen
on one half, and on the other half it finds about three rephrases in four, but one detection in
six or seven is a follow-up that changes one word ("after Monday?", "and in Celsius?"), which an
embedding cannot tell from a rephrase. Follow-ups outnumber rephrases in real use, so the share of
wrong detections would be higher still. Hence the signal is off by default (`rephrase_signal`), and
when on it only nudges the router (an outcome counted as half a wrong answer, `REPHRASE_WRONG`),
never the training data.

    python -m assistant.rephrase "What is the capital of Australia?" "Which city is Australia's capital?"
"""

from __future__ import annotations

import re
import sys

NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
REPHRASE_WRONG = 0.5  # an outcome's `wrong`: half of what the user's /bad (1.0) weighs in the router's score


def same_numbers(a: str, b: str) -> bool:
    return sorted(NUMBER.findall(a)) == sorted(NUMBER.findall(b))


def similarity(a: str, b: str, embedder) -> float:
    x, y = embedder.encode([a, b])
    return float(x @ y)  # cosine: the rows are normalized


def is_rephrase(before: str, after: str, embedder, threshold: float) -> bool:
    """Whether `after` asks `before` again (repeated, or in other words)."""
    from assistant.outcomes import query_key

    if query_key(before) == query_key(after):  # case, spacing and end punctuation aside
        return True
    return same_numbers(before, after) and similarity(before, after, embedder) >= threshold


def main(argv: list[str] | None = None) -> int:
    from assistant import config
    from assistant.embedder import shared

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print('usage: python -m assistant.rephrase "QUERY" "NEXT QUERY"', file=sys.stderr)
        return 2
    threshold = config.load().rephrase_similarity
    sim = similarity(args[0], args[1], shared())
    verdict = is_rephrase(args[0], args[1], shared(), threshold)
    print(f"similarity {sim:.3f}, same numbers {same_numbers(*args)}: {'a rephrase' if verdict else 'not a rephrase'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
