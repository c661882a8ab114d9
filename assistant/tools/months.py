"""The calendar's months, for the clock tool: which month a phrase names ("April", "the sixth month of
the year", "next month", "February 2028"), and what there is to know of it: its place in the year,
its neighbours and its length.

A small student recites month facts it half knows ("The month after February is December."); the
calendar knows them. A month asked about by itself is answered in one sentence that says all of it,
so whichever was asked (how many days, which comes after, the sixth month) is in the answer:

    >>> describe(4, None, dt.date(2026, 12, 4))
    'April is the 4th month of the year, after March and before May, and has 30 days.'
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

NAMES = list(calendar.month_name)[1:]  # "January" first, in English whatever the locale: month_name is
# locale-dependent only after setlocale, which nothing here calls
# Each month by its name and its short forms: "sept", "dec".
SPELLINGS = {
    spelling: number
    for number, spellings in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for spelling in spellings
}
ORDINALS = {
    word: n
    for n, words in enumerate(
        [
            ("first", "1st"),
            ("second", "2nd"),
            ("third", "3rd"),
            ("fourth", "4th"),
            ("fifth", "5th"),
            ("sixth", "6th"),
            ("seventh", "7th"),
            ("eighth", "8th"),
            ("ninth", "9th"),
            ("tenth", "10th"),
            ("eleventh", "11th"),
            ("twelfth", "12th"),
        ],
        start=1,
    )
    for word in words
}
# "this month", "next month", "last month": months on from today's
FROM_NOW = {"this": 0, "current": 0, "next": 1, "coming": 1, "last": -1, "previous": -1}


def read(text: str, today: dt.date) -> tuple[int, int | None] | None:
    """(month, year or None) that `text` names as a month by itself, else None (a date, a weekday, or
    nothing: those are the clock's to read)."""
    text = " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
    text = re.sub(r"^(?:the|a)\s+", "", text)
    in_year = re.search(r"\s+(?:of|in)\s+(?:the|a)\s+year$", text)  # "the last month of the year"
    text = text[: in_year.start()] if in_year else text
    if text in SPELLINGS:
        return SPELLINGS[text], None
    if (named := re.fullmatch(r"(\w+)\s+(\d{4})", text)) and named[1] in SPELLINGS:
        return SPELLINGS[named[1]], int(named[2])
    if found := re.fullmatch(r"(\w+)\s+month|month\s+(\d{1,2})", text):
        word = found[1] or found[2]
        if word in ORDINALS:
            return ORDINALS[word], None
        if word == "last" and in_year:
            return 12, None
        if word.isdigit() and 1 <= int(word) <= 12:
            return int(word), None
        if word in FROM_NOW and not in_year:
            months = today.year * 12 + today.month - 1 + FROM_NOW[word]
            return months % 12 + 1, months // 12
    return None


def describe(month: int, year: int | None, today: dt.date) -> str:
    """The month's place in the year, its neighbours and its length, in one sentence (`facts`, said)."""
    f = facts(month, year)
    place = f"{f['month']} is the {_ordinal(month)} month of the year, after {f['before']} and before {f['after']}"
    if month != 2:
        return f"{place}, and has {f['days']} days."
    if year is not None:
        return f"{place}; in {year} it has {f['days']} days{' (a leap year)' if f['days'] == 29 else ''}."
    next_leap = next(y for y in range(today.year, today.year + 8) if calendar.isleap(y))
    return f"{place}, and has 28 days, or 29 in a leap year (the next is {next_leap})."


def facts(month: int, year: int | None) -> dict:
    """What there is to know of the month (its length in `year`, or in a common year when none is given)."""
    found = {
        "month": NAMES[month - 1],
        "number": month,
        "days": calendar.monthrange(year if year is not None else 2001, month)[1],
        "before": NAMES[(month - 2) % 12],
        "after": NAMES[month % 12],
    }
    return {**found, "year": year} if year is not None else found


def _ordinal(n: int) -> str:
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n if n < 20 else n % 10, 'th') }"
