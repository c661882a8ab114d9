"""Numbers as people say them: "five", "twenty five", "three hundred and twelve", "half an hour".

One reading for every part that meets a number in words: the fast path's templates, the
calculator ("nine times seven"), the clock times of alarms and reminders ("half past eight"),
and the checks that a call keeps the numbers the user said. Digits need none of this.

    python -m assistant.tools.numbers "three hundred and twelve shared between eight"
"""

from __future__ import annotations

import re
import sys

_SMALL = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
    " seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
WORD_NUMBERS = {w: i for i, w in enumerate(_SMALL)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
WORD_NUMBERS |= {"a": 1, "an": 1, "a couple of": 2, "a couple": 2, "couple of": 2, "a dozen": 12, "dozen": 12}
WORD_NUMBERS |= {"half": 0.5, "half a": 0.5, "half an": 0.5, "a half": 0.5, "quarter": 0.25, "a quarter": 0.25}
WORD_NUMBERS |= {"a quarter of a": 0.25, "a quarter of an": 0.25, "quarter of an": 0.25, "three quarters of an": 0.75}

_UNIT_WORDS = r"(second|minute|hour|day|week|mile|kilometer|kilometre|meter|metre|foot|inch|pound|kilo|liter|litre|cup)"
_WORD = re.compile(
    r"\b(?:(?:" + "|".join(_TENS) + r")(?:[ -](?:" + "|".join(_SMALL[1:10]) + r"))?|" + "|".join(_SMALL) + r")\b",
    re.I,
)
# "3 hundred and 12" (each word made a digit on its own) is 312, "2 thousand and 10" is 2010
_SIZES = [
    (re.compile(rf"\b(\d+) {word}(?:,? and)?(?: (\d+)\b)?", re.I), size)
    for word, size in (("hundred", 100), ("thousand", 1000))
]


def parse_number(text: str) -> float | None:
    """A number written in digits ("2.5", "1,000") or words ("five", "twenty five", "a", "half an"); else None."""
    text = " ".join(text.strip().lower().replace("-", " ").split())
    digits = text.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text) else text
    if re.fullmatch(r"\d+(\.\d+)?|\.\d+", digits):
        return float(digits)
    if text in WORD_NUMBERS:
        return WORD_NUMBERS[text]
    words = text.split()
    total, current = 0, 0
    for word in words:
        if word == "and":
            continue
        if word == "hundred" and current:
            current *= 100
        elif word == "thousand" and (current or total):
            total, current = (total + current) * 1000, 0
        elif word in WORD_NUMBERS and isinstance(WORD_NUMBERS[word], int) and word not in ("a", "an"):
            current += WORD_NUMBERS[word]
        else:
            return None
    return float(total + current) if words else None


def words_to_digits(text: str) -> str:
    """Number words in running text made digits: "five times three" -> "5 times 3", "an hour" -> "1 hour",
    "a quarter of an hour" -> "0.25 hour", "three hundred and twelve" -> "312"."""
    text = re.sub(rf"\bhalf\s+an?\s+{_UNIT_WORDS}", r"0.5 \1", text, flags=re.I)
    text = re.sub(rf"\b(?:a\s+)?quarter\s+of\s+an?\s+{_UNIT_WORDS}", r"0.25 \1", text, flags=re.I)
    text = re.sub(rf"\bthree\s+quarters\s+of\s+an?\s+{_UNIT_WORDS}", r"0.75 \1", text, flags=re.I)
    text = re.sub(rf"\b(?:a|an)\s+{_UNIT_WORDS}(s?)\s+and\s+a\s+half\b", r"1.5 \1s", text, flags=re.I)
    text = re.sub(rf"\b(?:a|an)\s+{_UNIT_WORDS}\b", r"1 \1", text, flags=re.I)
    text = re.sub(r"\b(\w+)\s+and\s+a\s+half\b", _and_a_half, text, flags=re.I)
    text = _WORD.sub(lambda m: number_text(parse_number(m.group(0))), text)
    for pattern, size in _SIZES:
        text = pattern.sub(lambda m, size=size: str(int(m[1]) * size + int(m[2] or 0)), text)
    return text


def _and_a_half(found: re.Match) -> str:
    value = parse_number(found.group(1))
    return found.group(0) if value is None else number_text(value + 0.5)


def number_text(value: float | None) -> str:
    """A number as digits, without a trailing ".0"; "" for None."""
    return "" if value is None else (str(int(value)) if value == int(value) else str(value))


def plain_number(value: float) -> int | float:
    """3.0 as 3, 2.5 as 2.5: how a call's argument is written."""
    return int(value) if value == int(value) else value


if __name__ == "__main__":
    print(words_to_digits(" ".join(sys.argv[1:])))
