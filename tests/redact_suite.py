"""Redaction cases built from the libraries' own example data, and the measurement over them.

Cases come from what others wrote, not from the redactor's patterns:
- phonenumbers' example number of every region, fixed line and mobile, in international,
  E.164 and national form (national numbers read with that region as the locale's);
- python-stdnum's own doctest numbers (`validate(...)` examples that pass) for IBANs and the
  national ID numbers, IBANs built for every country of stdnum's IBAN registry, and card
  numbers completed with stdnum's Luhn check digit for each card network's prefixes;
- RFC 5952's IPv6 text forms, and addresses written compressed, with a zone, a prefix, in
  brackets with a port, and with an embedded IPv4 address;
each inside sentences (words before and after, punctuation, capitals, brackets).

`held_out()` is a second suite the redactor was not tuned on: the other phonenumbers number
types (toll free, premium, shared cost, VoIP, UAN, pager, personal, voicemail) and the
non-geographic numbers, in other sentences.

Run `python tests/redact_suite.py` for leaks, false redactions and time per query (p50/p99).
"""

from __future__ import annotations

import doctest
import importlib
import ipaddress
import json
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
from stdnum import iban, luhn
from stdnum.iso7064 import mod_97_10

from assistant.redact import ID_MODULES, PLACEHOLDER, Redactor

BENCH = Path(__file__).resolve().parent.parent / "assets" / "bench"


@dataclass(frozen=True)
class Case:
    text: str  # the sentence with the value in it
    value: str  # the private value as written
    kind: str  # what it is (for the report; any placeholder counts as redacted)
    region: str = "US"  # the locale's region the redactor is built with
    source: str = ""
    keep: str = ""  # what is not private and stays: a port, a prefix length, an amount


# Templates have no digits, so any digit left after redaction is a leak.
TEMPLATES = (
    "{v}",
    "My number is {v}.",
    "call me at {v}, thanks",
    "Is ({v}) right?",
    "CONTACT: {v} NOW",
    'He wrote "{v}" on the form',
    "send it to {v} tomorrow X",
    "{v}; then stop",
    "Please check {v}. Thanks!",
    "[{v}] is what the bank has",
    "Note - {v} - keep it",
    "details:\n{v}\nend",
)
HELD_OUT_TEMPLATES = (
    "Ring {v} after lunch",
    "the hotline ({v}) was busy",
    "Number: {v}!",
    "write down {v} and then call Bob",
    "{v} is the office line",
    "Try {v}? or email",
)


def leaked(case: Case, redacted: str) -> bool:
    """A leak: any digit, or any two-character piece of the value, survives outside a placeholder."""
    rest = PLACEHOLDER.sub(" ", redacted)
    if case.keep:
        rest = rest.replace(case.keep, " ")
    if any(c.isdigit() for c in rest):
        return True
    pieces = {p for p in re.findall(r"[A-Za-z0-9]+", case.value) if len(p) >= 2}
    return any(re.search(rf"(?<![A-Za-z0-9]){re.escape(p)}(?![A-Za-z0-9])", rest) for p in pieces)


def over_redacted(case: Case, redacted: str) -> bool:
    """A false redaction around a value: a word of the sentence itself was taken with it."""
    words = re.findall(r"[A-Za-z]+", case.text.replace(case.value, " "))
    rest = PLACEHOLDER.sub(" ", redacted)
    return any(not re.search(rf"(?<![A-Za-z]){w}(?![A-Za-z])", rest) for w in words)


def _sentences(value: str, kind: str, region: str, source: str, templates, n: int, seed: int) -> list[Case]:
    rng = random.Random(f"{seed}{value}")
    return [Case(t.format(v=value), value, kind, region, source) for t in rng.sample(templates, n)]


# ---- phone numbers -------------------------------------------------------------------------

FORMATS = {
    "international": phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    "e164": phonenumbers.PhoneNumberFormat.E164,
    "national": phonenumbers.PhoneNumberFormat.NATIONAL,
}


def phone_cases(types=("FIXED_LINE", "MOBILE"), templates=TEMPLATES, seed=0) -> list[Case]:
    cases = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for type_name in types:
            number = phonenumbers.example_number_for_type(region, getattr(phonenumbers.PhoneNumberType, type_name))
            if number is None:
                continue
            for name, fmt in FORMATS.items():
                value = phonenumbers.format_number(number, fmt)
                source = f"phonenumbers {region} {type_name.lower()} {name}"
                cases += _sentences(value, "PHONE", region, source, templates, 1, seed)
    return cases


def non_geo_cases(templates=HELD_OUT_TEMPLATES) -> list[Case]:
    cases = []
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            for name in ("international", "e164"):
                value = phonenumbers.format_number(number, FORMATS[name])
                cases += _sentences(value, "PHONE", "US", f"phonenumbers +{code} {name}", templates, 2, 1)
    return cases


# ---- python-stdnum's own numbers -----------------------------------------------------------

# the word a person uses before each kind of number, for numbers written without their grouping
ID_WORDS = {
    "us.ssn": "SSN", "us.itin": "ITIN", "ca.sin": "SIN", "gb.nhs": "NHS number", "ie.pps": "PPS number",
    "fr.nir": "NIR", "de.idnr": "Steuer-ID", "nl.bsn": "BSN", "be.nn": "national number", "es.dni": "DNI",
    "es.nie": "NIE", "it.codicefiscale": "codice fiscale", "pt.cc": "ID card", "ch.ssn": "AHV",
    "at.vnr": "social security number", "dk.cpr": "CPR", "fi.hetu": "HETU", "no.fodselsnummer": "fodselsnummer",
    "se.personnummer": "personnummer", "is_.kennitala": "kennitala", "ee.ik": "isikukood", "lt.asmens": "asmens kodas",
    "pl.pesel": "PESEL", "cz.rc": "rodne cislo", "bg.egn": "EGN", "ro.cnp": "CNP", "hr.oib": "OIB", "si.emso": "EMSO",
    "gr.amka": "AMKA", "tr.tckimlik": "TC kimlik", "il.idnr": "ID number", "za.idnr": "ID number",
    "in_.aadhaar": "Aadhaar", "in_.pan": "PAN", "cn.ric": "resident ID", "kr.rrn": "RRN", "br.cpf": "CPF",
    "mx.curp": "CURP", "cl.rut": "RUT",
}  # fmt: skip


def stdnum_numbers(module) -> list[str]:
    """The numbers a python-stdnum module's own doctests show as valid."""
    numbers = []
    for example in doctest.DocTestParser().get_examples(module.__doc__ or ""):
        m = re.fullmatch(r"(?:validate|is_valid)\('([^']+)'\)\s*(?:#.*)?", example.source.strip())
        if m and not example.exc_msg and example.want.strip() != "False" and module.is_valid(m.group(1)):
            numbers.append(m.group(1))
    return numbers


def id_cases(templates=TEMPLATES) -> list[Case]:
    cases = []
    for name in ID_MODULES:
        module = importlib.import_module(f"stdnum.{name}")
        word = ID_WORDS[name]
        for value in stdnum_numbers(module):
            source = f"stdnum.{name} doctest"
            cases.append(Case(f"my {word} is {value}", value, "ID", source=source))
            cases.append(Case(f"{word}: {value}.", value, "ID", source=source))
            formatted = getattr(module, "format", module.compact)(value)
            if formatted != module.compact(value):  # in its own grouping it needs no word before it
                cases += _sentences(formatted, "ID", "US", source + " formatted", templates, 2, 2)
    return cases


def _bban(spec: str, rng: random.Random) -> str:
    out = ""
    for count, kind in re.findall(r"(\d+)!([nac])", spec):
        chars = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}[
            kind
        ]
        out += "".join(rng.choice(chars) for _ in range(int(count)))
    return out


def iban_cases(templates=TEMPLATES) -> list[Case]:
    """stdnum's own IBANs, and one built for each country in its registry (those stdnum accepts)."""
    values = stdnum_numbers(iban)
    registry = Path(iban.__file__).with_name("iban.dat").read_text()
    rng = random.Random(5952)
    for country, spec in re.findall(r'^([A-Z]{2}) .*?bban="([^"]+)"', registry, re.M):
        for _ in range(20):  # some countries check their BBAN too: draw until one passes
            bban = _bban(spec, rng)
            value = country + mod_97_10.calc_check_digits(bban + country) + bban
            if iban.is_valid(value):
                values.append(value)
                break
    cases = []
    for value in values:
        for written in {iban.format(value), iban.compact(value), iban.format(value).replace(" ", "-")}:
            cases += _sentences(written, "IBAN", "US", "stdnum.iban", templates, 1, 3)
    cases.append(Case("Pay BE71 0961 2345 6769 EUR 40", "BE71 0961 2345 6769", "IBAN", source="issue 16", keep="40"))
    cases.append(Case("IBAN DE89 3704 0044 0532 0130 00 X", "DE89 3704 0044 0532 0130 00", "IBAN", source="issue 16"))
    return cases


CARD_PREFIXES = {"visa": ("4",), "mastercard": ("51", "55", "2221", "2720"), "amex": ("34", "37")}
CARD_PREFIXES |= {"discover": ("6011", "65"), "jcb": ("3528", "3589"), "diners": ("36", "38"), "unionpay": ("62",)}


def card_cases(templates=TEMPLATES) -> list[Case]:
    rng = random.Random(7812)
    cases = []
    for network, prefixes in CARD_PREFIXES.items():
        for prefix in prefixes:
            length = {"amex": 15, "diners": 14}.get(network, 16)
            body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
            digits = body + luhn.calc_check_digit(body)
            if length == 16:
                grouped = [
                    " ".join(digits[i : i + 4] for i in range(0, 16, 4)),
                    "-".join(digits[i : i + 4] for i in range(0, 16, 4)),
                ]
            else:
                grouped = [f"{digits[:4]} {digits[4:10]} {digits[10:]}"]
            for value in [digits, *grouped]:
                cases += _sentences(value, "CARD", "US", f"luhn {network}", templates, 2, 4)
    return cases


# ---- IP addresses --------------------------------------------------------------------------

RFC5952 = (  # the text forms RFC 5952 discusses (sections 1, 2, 4, 5 and 6)
    "2001:db8:0:0:1:0:0:1", "2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "2001:db8::0:1:0:0:1",
    "2001:0db8::1:0:0:1", "2001:db8:0:0:1::1", "2001:db8:0000:0:1::1", "2001:DB8:0:0:1::1",
    "2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:001",
    "2001:db8:aaaa:bbbb:cccc:dddd:eeee:01", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1", "2001:db8::aaaa:0:0:1",
    "2001:db8:0:0:aaaa::1", "2001:db8:0:0:0:0:2:1", "2001:db8::2:1", "2001:db8:0:1:1:1:1:1", "2001:db8::1",
    "2001:db8::0:1", "2001:db8:0:0:1:0:0:0", "2001:db8:0:0:0:0:0:1", "::ffff:192.0.2.1", "::ffff:c000:0201",
    "2001:db8::a", "fe80::1", "2001:db8::7334", "::1",
)  # fmt: skip


def ip_cases(templates=TEMPLATES) -> list[Case]:
    rng = random.Random(6)
    values = list(RFC5952)
    for _ in range(25):
        address = ipaddress.IPv6Address(rng.getrandbits(128) & ~(0xFFFF << rng.choice((16, 32, 48, 64))))
        values += [address.compressed, address.exploded]
    for _ in range(15):
        values.append(str(ipaddress.IPv4Address(rng.getrandbits(32))))
    cases = []
    for value in values:
        cases += _sentences(value, "IP", "US", "rfc5952 / generated", templates, 1, 6)
    for value in ("fe80::1", "2001:db8::1", "2001:db8:85a3::8a2e:370:7334", "192.0.2.33"):
        host = f"[{value}]" if ":" in value else value
        cases.append(Case(f"connect to {host}:8080 now", value, "IP", source="with port", keep=":8080"))
        cases.append(Case(f"route {value}/64 through it", value, "IP", source="with prefix", keep="/64"))
    for value in ("fe80::1%eth0", "fe80::200:f8ff:fe21:67cf%en0"):
        cases.append(Case(f"ping {value} please", value, "IP", source="with zone"))
    return cases


def email_cases(templates=TEMPLATES) -> list[Case]:
    values = (
        "jane.doe+work@mail.example.org", "BOB@EXAMPLE.COM", "a_b-c@sub.example.io", "first.last@example.museum",
        "user%host@example.com", "x@example.de",
    )  # fmt: skip
    return [c for v in values for c in _sentences(v, "EMAIL", "US", "email", templates, 5, 7)]


def suite() -> list[Case]:
    return phone_cases() + id_cases() + iban_cases() + card_cases() + ip_cases() + email_cases()


def held_out() -> list[Case]:
    other = ("TOLL_FREE", "PREMIUM_RATE", "SHARED_COST", "VOIP", "PERSONAL_NUMBER", "PAGER", "UAN", "VOICEMAIL")
    return phone_cases(other, HELD_OUT_TEMPLATES, seed=9) + non_geo_cases()


# ---- a suite written after tuning stopped -------------------------------------------------

FRESH_ID_MODULES = (
    "ar.dni", "be.eid", "bg.pnf", "cu.ni", "do.cedula", "ec.ci", "id.nik", "in_.epic", "in_.vid", "jp.in_", "ke.pin",
    "li.peid", "mu.nid", "my.nric", "pe.cui", "pk.cnic", "sk.rc", "th.pin",
)  # fmt: skip
FRESH_TEMPLATES = ("Please ring {v} today.", "Backup contact — {v}", "({v}) is my line", "Is {v} correct?")


def fresh() -> list[Case]:
    """Other sources and other writings: phone numbers as dialled from the US and the UK and as
    tel: URIs, IBANs from stdnum's per-country IBAN modules, and the personal numbers of the
    python-stdnum modules the redactor does not list, after "national ID number"."""
    cases = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for type_ in phonenumbers.supported_types_for_region(region):
            number = phonenumbers.example_number_for_type(region, type_)
            if number is None:
                continue
            for home in ("US", "GB"):
                value = phonenumbers.format_out_of_country_calling_number(number, home)
                cases += _sentences(
                    value, "PHONE", home, f"phonenumbers {region} {type_} from {home}", FRESH_TEMPLATES, 1, 11
                )
            value = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.RFC3966)[len("tel:") :]
            for case in _sentences(value, "PHONE", "US", f"phonenumbers {region} {type_} tel:", FRESH_TEMPLATES, 1, 12):
                cases.append(Case(case.text.replace(value, "tel:" + value), value, "PHONE", "US", case.source))
    for cc in ("be", "es", "me", "no"):
        module = importlib.import_module(f"stdnum.{cc}.iban")
        for value in stdnum_numbers(module):
            cases += _sentences(value, "IBAN", "US", f"stdnum.{cc}.iban", FRESH_TEMPLATES, 2, 13)
    for name in FRESH_ID_MODULES:
        try:
            module = importlib.import_module(f"stdnum.{name}")
        except ImportError:
            continue
        for value in stdnum_numbers(module):
            cases.append(Case(f"my national ID number is {value}", value, "ID", source=f"stdnum.{name}"))
    return cases


# ---- what must stay --------------------------------------------------------------------------

NEAR_MISSES = (
    "In 1999-2004 I had 3 cats",
    "What is 123456789 * 987654321?",
    "Set a timer for 25 minutes at 08:30",
    "Meeting on 2024-05-03 at 14:00, room 12",
    "Python 3.11.7 and numpy 1.26.4 on Ubuntu 22.04",
    "the build is 10.0.19041.1",
    "It costs $1,299.99 or 1 299,99 EUR",
    "Convert 1 000 000 meters to miles",
    "a[1::2] and x[::-1] in Python",
    "std::vector<int> v; v[0] = 42;",
    "the time is 12:30:45",
    "order 1234 5678",
    "ratio 16:9 and 4:3",
    "Add 2024 and 1999 and 42",
    "Pi is 3.14159265358979",
    "Square root of 144 is 12",
    "The population is 8,045,311,447 people",
    "Order #123456789 shipped",
    "ticket 20240503-001",
    "ISBN 978-0-306-40615-7",
    "total 1234567 bytes",
    "zip 94103 and 10001",
    "the range 100-200-300-400",
    "1/2/2024 to 3/4/2024",
    "invoice 2024 0001 2345",
)


def bench_queries() -> list[str]:
    return [json.loads(line)["query"] for p in sorted(BENCH.glob("*.jsonl")) for line in p.open() if line.strip()]


def measure(cases: list[Case]) -> dict:
    leaks, over, times = [], [], []
    for case in cases:  # once untimed: each region's phone metadata loads on first use, once per process
        Redactor(region=case.region).redact(case.text)
    for case in cases:
        r = Redactor(region=case.region)
        start = time.perf_counter()
        out = r.redact(case.text)
        times.append(time.perf_counter() - start)
        if leaked(case, out):
            leaks.append((case, out))
        elif over_redacted(case, out):
            over.append((case, out))
    times.sort()
    return {
        "cases": len(cases),
        "leaks": leaks,
        "over": over,
        "p50_ms": 1000 * times[len(times) // 2],
        "p99_ms": 1000 * times[int(len(times) * 0.99)],
    }


def main() -> None:
    for name, cases in (("suite", suite()), ("held out", held_out()), ("fresh", fresh())):
        result = measure(cases)
        print(f"{name}: {result['cases']} cases, {len(result['leaks'])} leaked, {len(result['over'])} over-redacted,")
        print(f"  redaction p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms")
        for case, out in result["leaks"][:40]:
            print("  LEAK", case.source, case.region, repr(case.text), "->", repr(out))
        for case, out in result["over"][:20]:
            print("  OVER", case.source, repr(case.text), "->", repr(out))
    stays = NEAR_MISSES + tuple(bench_queries())
    changed = [(q, Redactor(region="US").redact(q)) for q in stays]
    changed = [(q, out) for q, out in changed if out != q]
    print(f"near misses: {len(stays)} queries, {len(changed)} changed")
    for q, out in changed:
        print("  CHANGED", repr(q), "->", repr(out))


if __name__ == "__main__":
    main()
