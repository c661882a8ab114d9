"""Redaction: what would identify the user becomes a typed placeholder before a query leaves.

    >>> r = Redactor(terms=["Acme"])
    >>> r.redact("Mail bob@example.com about Acme")
    'Mail [EMAIL_1] about [TERM_1]'
    >>> r.restore("I wrote to [EMAIL_1].")
    'I wrote to bob@example.com.'

E-mail addresses, IBANs (mod-97 checked), card numbers (Luhn checked), IP addresses,
phone numbers and the user's own terms are found in that order, so a card number is
never half-taken as a phone number. One Redactor is used for a whole conversation: the
same value always gets the same placeholder, and the teacher's answer is restored
before the user sees it. `RestoringStream` does that on a stream whose chunks may cut
a placeholder in two.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(text: str) -> bool:
    s = re.sub(r"\s", "", text).upper()
    if not 15 <= len(s) <= 34:
        return False
    n = "".join(str(int(c, 36)) for c in s[4:] + s[:4])
    return int(n) % 97 == 1


def _card_ok(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    return 13 <= len(digits) <= 19 and _luhn(digits)


def _ip_ok(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _phone_ok(text: str) -> bool:
    # An international prefix or an area code in parentheses marks a phone number from 7 digits;
    # bare digit groups need 9, so years ("1999-2004") and order numbers stay.
    digits = re.sub(r"\D", "", text)
    marked = text.lstrip().startswith(("+", "("))
    return (7 if marked else 9) <= len(digits) <= 15


# (kind, pattern, validator): validators turn "looks like" into "is", so "1234 5678" in
# prose, or a year range, is not taken for a phone number.
PATTERNS: list[tuple[str, re.Pattern, object]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), None),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), _iban_ok),
    ("CARD", re.compile(r"\b\d(?:[ -]?\d){12,18}\b"), _card_ok),
    ("IP", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b"), _ip_ok),
    (
        "PHONE",
        re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?!\w)"),
        _phone_ok,
    ),
]
PLACEHOLDER = re.compile(r"\[(?:EMAIL|IBAN|CARD|IP|PHONE|TERM)_\d+\]")


class Redactor:
    """Replaces private values with placeholders and puts them back; one per conversation."""

    def __init__(self, terms: Iterable[str] = ()):
        self.terms = sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True)
        self.values: dict[str, str] = {}  # placeholder → original
        self._placeholders: dict[tuple[str, str], str] = {}  # (kind, original) → placeholder
        self._counts: dict[str, int] = {}

    def _placeholder(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self._placeholders:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            placeholder = f"[{kind}_{self._counts[kind]}]"
            self._placeholders[key] = placeholder
            self.values[placeholder] = value
        return self._placeholders[key]

    def redact(self, text: str) -> str:
        for kind, pattern, valid in PATTERNS:

            def replace(m: re.Match, kind=kind, valid=valid) -> str:
                if PLACEHOLDER.fullmatch(m.group()) or (valid and not valid(m.group())):
                    return m.group()
                return self._placeholder(kind, m.group())

            text = pattern.sub(replace, text)
        if self.terms:  # one pass, longest first, so numbering follows the text
            alternatives = "|".join(map(re.escape, self.terms))
            text = re.sub(
                rf"(?<!\w)(?:{alternatives})(?!\w)",
                lambda m: self._placeholder("TERM", m.group()),
                text,
                flags=re.IGNORECASE,
            )
        return text

    def restore(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.values.get(m.group(), m.group()), text)

    @property
    def found(self) -> dict[str, int]:
        """How many values of each kind were redacted."""
        return dict(self._counts)


class RestoringStream:
    """Restore placeholders in streamed text, holding back a chunk's tail that may be half a placeholder."""

    def __init__(self, redactor: Redactor):
        self.redactor = redactor
        self._pending = ""

    def feed(self, chunk: str) -> str:
        text = self._pending + chunk
        cut = text.rfind("[")
        if cut != -1 and "]" not in text[cut:] and len(text) - cut <= 12:
            text, self._pending = text[:cut], text[cut:]
        else:
            self._pending = ""
        return self.redactor.restore(text)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return self.redactor.restore(text)

    def restore_all(self, chunks: Iterable[str]) -> Iterator[str]:
        for chunk in chunks:
            if out := self.feed(chunk):
                yield out
        if tail := self.flush():
            yield tail
