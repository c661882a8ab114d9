"""One judging function: does the student's answer agree with the teacher's?

The router learns from it (a query the student got wrong sends similar ones to the
teacher) and distillation evaluates with it, so both mean the same by "wrong".
Two signals: embedding similarity of the two answers, and, where the teacher's answer
is short enough to be a fact ("Paris", "42"), whether the student's answer contains it.

    python -m assistant.judge "student answer" "teacher answer"
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from assistant.embedder import Embedder, shared

AGREE_SIMILARITY = 0.75  # cosine similarity of the answers' embeddings
SHORT_ANSWER_WORDS = 4
FACT_ANSWER_WORDS = 20  # up to this long, an answer's numbers and names must be matched too


@dataclass(frozen=True)
class Verdict:
    agree: bool
    similarity: float
    reason: str


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def contains_reference(answer: str, reference: str) -> bool:
    """True when every word of a short reference appears, in order, in the answer."""
    ref, ans = _words(reference), " ".join(_words(answer))
    return bool(ref) and re.search(r"\b" + r"\W+".join(map(re.escape, ref)) + r"\b", ans) is not None


def numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:[.,]\d+)?", text))


SENTENCE_STARTERS = {
    "The",
    "A",
    "An",
    "It",
    "Its",
    "This",
    "That",
    "There",
    "These",
    "Those",
    "In",
    "At",
    "On",
    "Yes",
    "No",
    "Sure",
    "Of",
    "To",
    "For",
    "As",
    "I",
    "You",
    "We",
    "They",
    "He",
    "She",
}


def names(text: str) -> set[str]:
    """Capitalised words, but for the usual sentence starters: the names an answer asserts."""
    return {w.lower() for w in re.findall(r"\b[A-Z][a-zA-Z]+", text) if w not in SENTENCE_STARTERS}


def judge(
    student: str, teacher: str, *, embedder: Embedder | None = None, agree_similarity: float = AGREE_SIMILARITY
) -> Verdict:
    student, teacher = student.strip(), teacher.strip()
    if not student:
        return Verdict(False, 0.0, "the student gave no answer")
    a, b = (embedder or shared()).encode([student, teacher])
    similarity = float(a @ b)
    if len(_words(teacher)) <= SHORT_ANSWER_WORDS:
        agree = contains_reference(student, teacher)
        return Verdict(
            agree, similarity, "contains the teacher's short answer" if agree else "misses the teacher's short answer"
        )
    agree = similarity >= agree_similarity
    if agree and len(_words(teacher)) <= FACT_ANSWER_WORDS:
        # "3 kg is 1.36 lb" reads much like "3 kg is 6.61 lb", and "Sydney" like "Canberra":
        # similarity alone misses wrong facts. A number the teacher did not give contradicts it;
        # every name the teacher gives must be there, and one of its numbers if it gives any.
        wrong = sorted(numbers(student) - numbers(teacher))
        if wrong:
            return Verdict(False, similarity, f"says {', '.join(wrong[:3])}, which the teacher does not")
        said = student.lower()
        missing = sorted(n for n in names(teacher) if n not in said)
        if missing or (numbers(teacher) and not numbers(teacher) & numbers(student)):
            what = ", ".join(missing[:3]) or ", ".join(sorted(numbers(teacher))[:3])
            return Verdict(False, similarity, f"misses {what} of the teacher's answer")
    return Verdict(agree, similarity, f"similarity {similarity:.2f} {'≥' if agree else '<'} {agree_similarity}")


if __name__ == "__main__":
    print(judge(sys.argv[1], sys.argv[2]))
