"""Redaction never fails on any text, and the user gets back exactly what they wrote.

Property tests (hypothesis): any string (control characters, lone surrogates, right-to-left
marks, text that looks like placeholders), and strings dense in what the finders look at
(digits, separators, hex, colons, brackets). Plus one query of a megabyte."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.redact import Redactor, RestoringStream

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
DENSE = st.text(alphabet="0123456789 +-.:()[]/%@abcdefABCDEFXeth_ \n\u200f", max_size=120)
PIECES = st.lists(
    st.sampled_from(
        ["+33 1 42 68 53 00", "fe80::1%eth0", "[2001:db8::1]:8080", "DE89 3704 0044 0532 0130 00", "536-90-4399",
         "4111 1111 1111 1111", "a@b.co", "[IP_1]", "[PHONE_", " ", "\x00", "\u202e", "12:30", "2024-05-03", "::", "X"]
    ),
    max_size=12,
).map("".join)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ANY_TEXT, DENSE, PIECES))
def test_redaction_never_raises_and_restores_exactly(text):
    r = Redactor(region="US")
    redacted = r.redact(text)
    assert r.restore(redacted) == text


@settings(max_examples=100, deadline=None)
@given(PIECES, st.lists(st.integers(1, 8), min_size=1, max_size=20))
def test_a_stream_cut_anywhere_restores_the_same(text, cuts):
    r = Redactor(region="US")
    redacted = r.redact(text)
    chunks, pos = [], 0
    for n in cuts:
        chunks.append(redacted[pos : pos + n])
        pos += n
    chunks.append(redacted[pos:])
    assert "".join(RestoringStream(r).restore_all(chunks)) == text


def test_a_megabyte_query_is_redacted_whole():
    rng = random.Random(16)
    words = ["the", "invoice", "for", "Ada", "is", "late", "\x1b[31m", "\u200f", "\n", "and", "then"]
    private = ["+33 1 42 68 53 00", "fe80::1", "536-90-4399", "DE89 3704 0044 0532 0130 00", "a@b.co"]
    parts, size = [], 0
    while size < 1_000_000:
        parts.append(rng.choice(private) if rng.random() < 0.002 else rng.choice(words))
        size += len(parts[-1]) + 1
    text = " ".join(parts)
    r = Redactor(region="US")
    redacted = r.redact(text)
    assert not any(value in redacted for value in private)
    assert r.restore(redacted) == text
