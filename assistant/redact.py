"""Redaction: what would identify the user becomes a typed placeholder before a query leaves.

    >>> r = Redactor(terms=["Acme"], region="US")
    >>> r.redact("Mail bob@example.com about Acme")
    'Mail [EMAIL_1] about [TERM_1]'
    >>> r.restore("I wrote to [EMAIL_1].")
    'I wrote to bob@example.com.'

Each kind is found by what is made to know it, and a candidate only counts once it checks:
e-mail addresses by pattern; IBANs by python-stdnum (country length, structure, mod 97);
card numbers by the Luhn check; national ID numbers (US SSN, and the personal numbers of
other countries) by python-stdnum; IPv4 and IPv6 addresses, compressed, with a zone or a
prefix or in brackets with a port, by `ipaddress`; phone numbers by libphonenumber's
matcher (`phonenumbers`), for the locale's region and in international form. A candidate
that fails its check is tried again shorter (a trailing word or group dropped), never
given up whole, so "Pay BE71 0961 2345 6769 EUR 40" loses only the IBAN.

Kinds claim text in that order (e-mail, IBAN, card, IP, phone, ID), on the original text,
so a card number is never half-taken as a phone number; where two finds overlap, the
placeholder covers both. One Redactor is used for a whole conversation: the same
value always gets the same placeholder, and the teacher's answer is restored before the
user sees it. `RestoringStream` does that on a stream whose chunks may cut a placeholder
in two.
"""

from __future__ import annotations

import bisect
import importlib
import ipaddress
import locale
import os
import re
from collections.abc import Callable, Iterable, Iterator

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn

KINDS = ("EMAIL", "IBAN", "CARD", "ID", "IP", "PHONE", "TERM")
PLACEHOLDER = re.compile(rf"\[(?:{'|'.join(KINDS)})_\d+\]")

Span = tuple[int, int]  # [start, end) in the text


def default_region() -> str:
    """The two-letter region national phone numbers are read in: the locale's, else US."""
    for var in ("LC_ALL", "LC_TELEPHONE", "LC_CTYPE", "LANG"):
        if m := re.match(r"[a-z]{2,3}_([A-Z]{2})\b", os.environ.get(var, "")):
            return m.group(1)
    try:
        name = locale.getlocale()[0] or ""
    except ValueError:
        name = ""
    m = re.match(r"[a-z]{2,3}_([A-Z]{2})$", name)
    region = m.group(1) if m else "US"
    return region if region in phonenumbers.SUPPORTED_REGIONS else "US"


# ---- e-mail -------------------------------------------------------------------------------

EMAIL = re.compile(r"(?<![\w.!#$%&*+/=?^{|}~-])[\w.!#$%&*+/=?^{|}~-]+@[\w-]+(?:\.[\w-]+)+")  # RFC 5322's atoms


def find_emails(text: str) -> Iterator[Span]:
    for m in EMAIL.finditer(text):
        yield m.span()


# ---- IBAN ---------------------------------------------------------------------------------

# A country code and two check digits start it; groups of letters and digits follow, with a
# space or a dash between groups. The run is taken long and cut back at each word end
# until python-stdnum accepts it, so a trailing "X", "EUR" or amount does not sink it.
IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2} ?\d{2}")
IBAN_RUN = re.compile(r"[A-Za-z0-9]+(?:[ -][A-Za-z0-9]+)*")


def find_ibans(text: str) -> Iterator[Span]:
    pos = 0
    while m := IBAN_START.search(text, pos):
        run = IBAN_RUN.match(text, m.start(), m.start() + 80)  # an IBAN is 34 characters at most, spaced 42
        found = None
        ends = [w.end() for w in re.finditer(r"[A-Za-z0-9]+", run.group())]
        for end in reversed(ends):
            candidate = run.group()[:end]
            n = len(re.sub(r"[ -]", "", candidate))
            if 15 <= n <= 34 and stdnum_iban.is_valid(candidate):
                found = (m.start(), m.start() + end)
                break
        if found:
            yield found
            pos = found[1]
        else:
            pos = m.start() + 1


# ---- payment cards ------------------------------------------------------------------------

# Cards are written unbroken or in groups of four (Amex 4-6-5, Diners 4-6-4). Sub-spans are
# tried only on group boundaries, so a year after the number or a word before it is left out
# without testing every slice of a long digit run against a 1-in-10 check.
CARD_RUN = re.compile(r"(?<![\d.,])\d+(?:[ -]\d+)*(?![\d])")
CARD_GROUPS = re.compile(r"\d{13,19}|\d{4}(?:([ -])\d{4}){2}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5}")


def _card_ok(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn.is_valid(digits) and len(set(digits)) > 1


def find_cards(text: str) -> Iterator[Span]:
    for run in CARD_RUN.finditer(text):
        groups = [(g.start(), g.end()) for g in re.finditer(r"\d+", run.group())]
        found: list[Span] = []
        used = [False] * len(groups)
        for length in range(min(len(groups), 4), 0, -1):  # a card is four groups at most
            for i in range(len(groups) - length + 1):
                if any(used[i : i + length]):
                    continue
                start, end = groups[i][0], groups[i + length - 1][1]
                candidate = run.group()[start:end]
                if CARD_GROUPS.fullmatch(candidate) and _card_ok(candidate):
                    found.append((start, end))
                    used[i : i + length] = [True] * length
        for start, end in sorted(found):
            yield run.start() + start, run.start() + end


# ---- national ID numbers ------------------------------------------------------------------

# Personal ID numbers that python-stdnum validates. Most are digits with a weak check, so a
# run of bare digits counts only after a word that names an ID ("SSN 536904399"); written
# in the number's own format ("536-90-4399", "756.9217.0769.85") or with its letters
# ("12345678Z"), it counts anywhere. Right after such a word ("my national ID number is"),
# the whole number is taken even when no module here knows its checksum.
ID_MODULES = (
    "us.ssn", "us.itin", "ca.sin", "gb.nhs", "ie.pps", "fr.nir", "de.idnr", "nl.bsn", "be.nn", "es.dni",
    "es.nie", "it.codicefiscale", "pt.cc", "ch.ssn", "at.vnr", "dk.cpr", "fi.hetu", "no.fodselsnummer",
    "se.personnummer", "is_.kennitala", "ee.ik", "lt.asmens", "pl.pesel", "cz.rc", "bg.egn",
    "ro.cnp", "hr.oib", "si.emso", "gr.amka", "tr.tckimlik", "il.idnr", "za.idnr", "in_.aadhaar",
    "in_.pan", "cn.ric", "kr.rrn", "br.cpf", "mx.curp", "cl.rut",
)  # fmt: skip
ID_WORDS = re.compile(
    r"\b(?:ssn|social security|social insurance|itin|tax ?id|taxpayer|nhs|pps|nir|insee|idnr|steuer-?id"
    r"|bsn|burgerservicenummer|rijksregister|national (?:id|identity|number|register|insurance)|dni|nie|nif"
    r"|codice fiscale|cpr|hetu|henkilötunnus|fødselsnummer|fodselsnummer|personnummer|kennitala|isikukood"
    r"|asmens kodas|personas kods|pesel|rodné číslo|rodne cislo|egn|cnp|oib|emšo|emso|amka|kimlik|teudat"
    r"|aadhaar|aadhar|pan (?:no|number|card)|resident id|rrn|cpf|curp|ahv|id (?:no|number|card)"
    r"|identity (?:no|number|card)|identification number|personal (?:id|number|code))\b",
    re.IGNORECASE,
)
ID_ACRONYMS = re.compile(r"\b(?:SIN|TIN|PAN|RUT|AVS|ID)\b")  # these only in capitals: "sin", "tin", "pan" are words
ID_RUN = re.compile(r"(?<![\w.-])[A-Za-z0-9]+(?:[-./ ][A-Za-z0-9]+)*")
_id_modules: list | None = None
_id_shapes: dict[str, list] = {}  # "ddd-dd-dddd" → the modules that write their digits so


def _shape(text: str) -> str:
    return re.sub(r"[-./ ]", "-", re.sub(r"\d", "d", text))


def _ids() -> list:
    global _id_modules
    if _id_modules is None:
        _id_modules = []
        for name in ID_MODULES:
            try:
                module = importlib.import_module(f"stdnum.{name}")
            except ImportError:  # an older python-stdnum without this country: the others still count
                continue
            _id_modules.append(module)
            for n in range(6, 21):  # how format() groups n digits, so bare digit groups skip the rest
                try:
                    shape = _shape(module.format("1" * n))
                except Exception:
                    continue
                if "-" in shape and module not in _id_shapes.setdefault(shape, []):
                    _id_shapes[shape].append(module)
    return _id_modules


def _valid(module, compact: str, candidate: str) -> bool:
    try:
        return module.is_valid(compact) or (compact != candidate and module.is_valid(candidate))  # "131052-308T"
    except Exception:  # a validator that trips on odd input does not stop the others
        return False


def _id_ok(candidate: str, named: bool) -> bool:
    compact = re.sub(r"[-./ ]", "", candidate)
    digits = sum(c.isdigit() for c in compact)
    if not 6 <= len(compact) <= 20 or digits < 4 or (digits < 5 and compact.isdigit()):
        return False
    modules = _ids()
    if named:
        return any(_valid(m, compact, candidate) for m in modules)
    if not compact.isdigit():
        # an ID's letters are capitals inside or beside its digits; a word among digits ("299.99 or 1") is prose
        if not compact.isupper() or re.search(r"(?<![A-Za-z0-9])[A-Za-z]+(?![A-Za-z0-9])", candidate):
            return False
        return any(_valid(m, compact, candidate) for m in modules)
    # bare digits with no word naming them count only in the number's own grouping: "536-90-4399", "536 90 4399"
    return any(
        _valid(m, compact, candidate) and _shape(m.format(compact)) == _shape(candidate)
        for m in _id_shapes.get(_shape(candidate), ())
    )


def _id_word(word: str) -> bool:
    # an ID is made of digit groups and capital letters; a word of small letters ends it
    return any(c.isdigit() for c in word) or word.isalpha() and len(word) <= 2


def find_ids(text: str, claimed: Iterable[Span] = ()) -> Iterator[Span]:
    """National ID numbers; a word inside a `claimed` span (a phone, an IBAN) is not tried again."""
    if not any(c.isdigit() for c in text):
        return
    starts = {i for s, e in claimed for i in range(s, e)}
    for run in ID_RUN.finditer(text):
        if sum(c.isdigit() for c in run.group()) < 4:
            continue
        words = [w for w in re.finditer(r"[A-Za-z0-9]+", run.group())]
        i = 0
        while i < len(words):  # the longest span from each digit word that checks, then on after it
            # it starts with digits, or with a letter or two before them ("HR 33392005961", "x-2482300w")
            word = words[i].group()
            lead = word.isalpha() and (len(word) == 1 or len(word) == 2 and word.isupper()) and i + 1 < len(words)
            if not (any(c.isdigit() for c in words[i].group()) or lead and words[i + 1].group()[0].isdigit()):
                i += 1
                continue
            if run.start() + words[i].start() in starts:
                i += 1
                continue
            last = i
            while last + 1 < len(words) and last - i < 6 and _id_word(words[last + 1].group()):
                last += 1
            start = words[i].start()
            before = text[max(0, run.start() + start - 40) : run.start() + start]
            names = [*ID_WORDS.finditer(before), *ID_ACRONYMS.finditer(before)]
            # "my national ID number is X": X is private whether or not a checksum here knows it
            right_after = any(len(before) - m.end() <= 20 and not re.search(r"\d", before[m.end() :]) for m in names)
            if right_after and sum(c.isdigit() for c in run.group()[start : words[last].end()]) >= 6:
                yield run.start() + start, run.start() + words[last].end()  # all of it, not a part that checks
                i = last + 1
                continue
            for j in range(last, i - 1, -1):
                if _id_ok(run.group()[start : words[j].end()], bool(names)):
                    yield run.start() + start, run.start() + words[j].end()
                    i = j
                    break
            i += 1


# ---- IP addresses -------------------------------------------------------------------------

IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\.?\w)")
# Anything made of hex digits, colons and dots with two colons or more, and a zone after %:
# `ipaddress` decides, and a candidate is cut back from its end until it checks ("fe80::1:").
IPV6 = re.compile(r"(?<![\w:.%])[0-9A-Fa-f:.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(?:%[\w.-]+)?")


def _ip6_ok(candidate: str) -> bool:
    # "a[1::2]" and "x[::2]" are slices: an address needs three hex digits, or is ::1
    if candidate != "::1" and sum(c in "0123456789abcdefABCDEF" for c in candidate.split("%")[0]) < 3:
        return False
    try:
        ipaddress.IPv6Address(candidate)
        return True
    except ValueError:
        return False


def find_ips(text: str) -> Iterator[Span]:
    # IPv6 first, so the IPv4 tail of "::ffff:192.0.2.128" goes with its address
    for m in IPV6.finditer(text):
        for end in range(min(m.end(), m.start() + 64), m.start() + 1, -1):  # 45 characters and a zone at most
            if text[end - 1] in "0123456789abcdefABCDEF:" or "%" in text[m.start() : end]:
                if _ip6_ok(text[m.start() : end]):
                    yield m.start(), end
                    break
    for m in IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(m.group())
            yield m.span()
        except ValueError:
            pass


# ---- phone numbers ------------------------------------------------------------------------

# libphonenumber's own matcher; VALID leniency (the number is a real number of its region)
# was measured against POSSIBLE, which took years, order numbers and sums for phone numbers.
# National numbers of other regions are not valid for the locale's region, so a second,
# narrower pass takes a trunk-prefixed number ("020 7946 0958") that is valid in a region
# that dials 0 first.
TRUNK_NATIONAL = re.compile(r"(?<![\w+.,/-])\(?0\d{1,4}\)?(?:[ .-]?\d{1,4}){2,5}(?![\w.,/-]?\d)")
TRUNK_REGIONS = ("GB", "FR", "DE", "IT", "ES", "NL", "BE", "AT", "CH", "SE", "AU", "JP", "IN", "BR", "IE", "NZ")


def find_phones(text: str, region: str) -> Iterator[Span]:
    if sum(c.isdigit() for c in text) < 3:
        return
    for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        yield m.start, m.end
    for m in TRUNK_NATIONAL.finditer(text):
        if sum(c.isdigit() for c in m.group()) < 9:
            continue
        for other in TRUNK_REGIONS:
            try:
                if phonenumbers.is_valid_number(phonenumbers.parse(m.group(), other)):
                    yield m.span()
                    break
            except phonenumbers.NumberParseException:
                continue


# ---- the redactor -------------------------------------------------------------------------


class Redactor:
    """Replaces private values with placeholders and puts them back; one per conversation."""

    def __init__(self, terms: Iterable[str] = (), region: str | None = None):
        self.terms = sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True)
        self.region = (region or default_region()).upper()
        self.values: dict[str, str] = {}  # placeholder → original
        self._placeholders: dict[tuple[str, str], str] = {}  # (kind, original) → placeholder
        self._counts: dict[str, int] = {}
        self._typed: set[str] = set()  # placeholder-shaped text the user typed: never handed out

    def _placeholder(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self._placeholders:
            n = self._counts.get(kind, 0) + 1
            while f"[{kind}_{n}]" in self._typed:  # so restoring cannot turn the user's own "[IP_1]" into an address
                n += 1
            self._counts[kind] = n
            placeholder = f"[{kind}_{n}]"
            self._placeholders[key] = placeholder
            self.values[placeholder] = value
        return self._placeholders[key]

    def _finders(self, taken: list) -> list[tuple[str, Callable[[str], Iterable[Span]]]]:
        finders = [
            ("EMAIL", find_emails),
            ("IBAN", find_ibans),
            ("CARD", find_cards),
            ("IP", find_ips),
            ("PHONE", lambda text: find_phones(text, self.region)),
            ("ID", lambda text: find_ids(text, [(s, e) for s, e, _ in taken])),
        ]
        if self.terms:
            alternatives = re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, self.terms))})(?!\w)", re.IGNORECASE)
            finders.append(("TERM", lambda text: (m.span() for m in alternatives.finditer(text))))
        return finders

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """What would be redacted: (start, end, kind), in text order.

        Earlier kinds claim text first; a later find that overlaps a claim widens it to cover
        both, so no digit of either is left out in the open."""
        typed = [m.span() for m in PLACEHOLDER.finditer(text)]
        self._typed.update(text[s:e] for s, e in typed)
        typed_starts = [s for s, _ in typed]
        taken: list[list] = []  # [start, end, kind], sorted and apart; bisected, as a long text has thousands
        starts: list[int] = []
        for kind, find in self._finders(taken):
            for start, end in find(text):
                i = bisect.bisect_left(typed_starts, end)
                if start >= end or (i and typed[i - 1][1] > start):
                    continue
                first = bisect.bisect_right(starts, start) - 1
                if first < 0 or taken[first][1] <= start:
                    first += 1
                last = bisect.bisect_left(starts, end)  # claims that start before this one ends: [first, last)
                if first >= last:
                    taken.insert(first, [start, end, kind])
                    starts.insert(first, start)
                    continue
                claim = taken[first]
                claim[0], claim[1] = min(start, claim[0]), max(end, taken[last - 1][1])
                starts[first] = claim[0]
                del taken[first + 1 : last], starts[first + 1 : last]
        return sorted((s, e, k) for s, e, k in taken)

    def redact(self, text: str) -> str:
        out, pos = [], 0
        for start, end, kind in self.spans(text):
            out += [text[pos:start], self._placeholder(kind, text[start:end])]
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def restore(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.values.get(m.group(), m.group()), text)

    @property
    def found(self) -> dict[str, int]:
        """How many values of each kind were redacted."""
        counts: dict[str, int] = {}
        for kind, _ in self._placeholders:
            counts[kind] = counts.get(kind, 0) + 1
        return counts


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
