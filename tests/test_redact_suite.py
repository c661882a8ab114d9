"""Redaction against cases built from the libraries' own example data (tests/redact_suite.py):
no digit or piece of a phone number, IBAN, card, ID number, IP or e-mail address survives,
no word around it is taken with it, and the numbers a task needs stay."""

import pytest
import redact_suite as suite

from assistant.redact import Redactor

GROUPS = {
    "phone numbers (phonenumbers' examples, every region)": suite.phone_cases,
    "ID numbers (python-stdnum's doctests)": suite.id_cases,
    "IBANs (python-stdnum's doctests and registry)": suite.iban_cases,
    "card numbers (Luhn, each network)": suite.card_cases,
    "IP addresses (RFC 5952 and generated)": suite.ip_cases,
    "e-mail addresses": suite.email_cases,
    "held out: other phone number types and non-geographic numbers": suite.held_out,
    "fresh: dialled from abroad, tel: URIs, other IBAN and ID sources": suite.fresh,
}


@pytest.mark.parametrize("name", GROUPS)
def test_no_leak(name):
    cases = GROUPS[name]()
    result = suite.measure(cases)
    assert len(cases) >= 30
    assert [(c.text, out) for c, out in result["leaks"]] == []
    assert [(c.text, out) for c, out in result["over"]] == []


def test_the_suite_is_large_enough():
    assert len(suite.suite()) >= 500


@pytest.mark.parametrize("query", suite.bench_queries() + list(suite.NEAR_MISSES))
def test_numbers_a_task_needs_stay(query):
    assert Redactor(region="US").redact(query) == query
