"""Redaction: private values become typed placeholders before anything leaves, and come back
in the answer the user sees, even when a stream cuts a placeholder in two."""

import pytest

from assistant.redact import Redactor, RestoringStream


@pytest.mark.parametrize(
    "text, kind",
    [
        ("write to jane.doe+work@mail.example.org", "EMAIL"),
        ("my card is 4111 1111 1111 1111", "CARD"),
        ("card 5500-0000-0000-0004 please", "CARD"),
        ("IBAN DE89 3704 0044 0532 0130 00", "IBAN"),
        ("IBAN GB82WEST12345698765432", "IBAN"),
        ("the server is 10.0.12.7", "IP"),
        ("or fe80:0:0:0:202:b3ff:fe1e:8329", "IP"),
        ("call +44 20 7946 0958", "PHONE"),
        ("call (415) 555-0132", "PHONE"),
        ("call 020 7946 0958 tonight", "PHONE"),
    ],
)
def test_each_kind_is_replaced_and_restored(text, kind):
    r = Redactor()
    redacted = r.redact(text)
    assert f"[{kind}_1]" in redacted
    assert r.restore(redacted) == text


@pytest.mark.parametrize(
    "text",
    [
        "In 1999-2004 I had 3 cats",  # years are not phones
        "card 4111 1111 1111 1112",  # fails Luhn
        "IBAN DE00 3704 0044 0532 0130 00",  # fails mod 97
        "version 999.1.2.3 of the tool",  # not an IP
        "order 1234 5678",  # too short for a bare phone number
    ],
)
def test_lookalikes_stay(text):
    assert Redactor().redact(text) == text


def test_user_terms_and_repeated_values_share_placeholders():
    r = Redactor(terms=["Project Falcon", "Ada"])
    out = r.redact("Ada said project falcon ships; ask Ada or ada@x.io")
    assert out == "[TERM_1] said [TERM_2] ships; ask [TERM_1] or [EMAIL_1]"
    assert r.found == {"EMAIL": 1, "TERM": 2}


def test_streamed_placeholders_are_restored_across_chunk_boundaries():
    r = Redactor()
    r.redact("mail a@b.co and call +1 415 555 0132")
    chunks = ["I mailed [EM", "AIL_1", "] and rang [PHONE_", "1]. Also [x] stays", " and [EMAIL_9] too"]
    out = "".join(RestoringStream(r).restore_all(chunks))
    assert out == "I mailed a@b.co and rang +1 415 555 0132. Also [x] stays and [EMAIL_9] too"
