"""Does the student say it again? A sentence it is unsure of, asked again with sampling.

A small student's mean log-probability cannot tell a fact it knows but words loosely ("Hamlet is the
work of the 17th-century English playwright William Shakespeare.", −0.45) from one it makes up
("Don Quixote is a classic novel by Sir John Dryden", −0.66): both sit below the cascade line, and
the facts it knows leave the machine with the ones it does not. But what a model knows it says again
when asked again at a temperature, and what it makes up comes out different each time (SelfCheckGPT,
Manakul et al. 2023; semantic entropy, Kuhn et al. 2023). So the cascade may ask the student for
`SAMPLES` more answers to a sentence below its line, in the base student's words, each from a seed
of its own drawn from the query (the same query gets the same answers, so a benchmark sees what a
user would), and keep the sentence when the configured share of them (all, by default) say one of
its names or numbers again: the words of its first sentence written with a capital or in digits
that the question does not already hold. "The capital of Ghana is Accra." is said again when every
answer names Accra. A sentence with no name or number ("It is basil.") is not asked again, and asking
stops once the share needed is out of reach (with all needed, at the first answer that names none).

Measured on the base student's answers to 150 fact questions written for tuning this
(assets/bench/facts_tune.jsonl) and the train set's 17 (README, The router): of the 129 below the
line that nothing shows false, 47 right, this keeps 10 right and 1 wrong; every answer holding every
key word kept 3 right, half the answers naming one 23 right and 11 wrong. On the facts of the five
test sets, never tuned on, it keeps 8 of the 22 right below the line and none of the 18 wrong.

    python -m assistant.said_again "Who wrote Hamlet?" "Hamlet was written by William Shakespeare." \\
        "Shakespeare wrote Hamlet." "William Shakespeare." "It was Christopher Marlowe."
"""

from __future__ import annotations

import re
import sys
import zlib

SAMPLES = 3  # answers asked again
TEMPERATURE = 0.8  # how they are sampled
MAX_TOKENS = 40  # each: its first sentence is what is compared
STOPWORDS = frozenset(
    "a an as at by in of on to it he she we you my his her our your yes no "
    "the and was were are is for with that this from its it's has have had not but which what who whom where when "
    "how why also about into than then there their they them known called name named one very most more some any "
    "can could would should will may might answer question located found just only".split()
)
WORD = re.compile(r"[^\W_]+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s|\n")


def key_words(sentence: str, query: str) -> set[str]:
    """The names and numbers of the sentence's first sentence that the question does not already hold
    ("Accra", "8"): what it answers with. None of them, and the sentence is not asked again."""
    first = SENTENCE_END.split(sentence.strip(), maxsplit=1)[0]
    asked = {w.lower() for w in WORD.findall(query)}
    return {
        w.lower()
        for w in WORD.findall(first)
        if (w[0].isupper() or w.isdigit()) and w.lower() not in asked and w.lower() not in STOPWORDS
    }


def agreement(sentence: str, samples: list[str], query: str) -> float | None:
    """The share of the samples that hold at least one of the sentence's key words; None when it has none."""
    keys = key_words(sentence, query)
    if not keys or not samples:
        return None
    return sum(bool(keys & {w.lower() for w in WORD.findall(sample)}) for sample in samples) / len(samples)


def out_of_reach(sentence: str, samples: list[str], query: str, needed: float, n: int = SAMPLES) -> bool:
    """Whether `needed`, a share of `n` answers, can no longer be reached whatever the answers not yet
    asked say: with all of them needed (the default), the first that names none of the key words
    settles it."""
    if not samples:
        return False
    named = round((agreement(sentence, samples, query) or 0.0) * len(samples))
    return named + (n - len(samples)) < needed * n - 1e-9


def seeds(query: str, n: int = SAMPLES) -> list[int]:
    """One seed per answer asked again, the same for the same query."""
    start = zlib.crc32(" ".join(query.lower().split()).encode("utf-8"))
    return [(start + k) % 2**31 for k in range(n)]


if __name__ == "__main__":
    query, sentence, *samples = sys.argv[1:]
    print(sorted(key_words(sentence, query)), agreement(sentence, samples, query))
