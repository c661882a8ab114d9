"""The clock tool: the time and date here or in another place, a date's weekday, days between dates,
the day that lies some days or months on from a date ("4 days after Saturday", "in 90 days", "3
months from today"), the month some months on from a month ("5 months after September"), and a
month's length and neighbours ("April", "the sixth month of the year"; assistant/tools/months.py).

Everything comes from this machine's clock and the IANA time-zone database (`zoneinfo`), so
"what time is it" never needs the teacher. A city is found by the last part of its zone's
name ("New York" → America/New_York) or by a short list of cities and countries the
database does not name.

    python -m assistant.tools.clock Tokyo
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import string
import sys
import zoneinfo

from assistant.tools import ToolContext, ToolError, ToolResult, tool
from assistant.tools import months as calendar_months  # "months" is also the count a call gives

# Places people ask about that are not the last part of a zone's name.
ALIASES = {
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "silicon valley": "America/Los_Angeles",
    "california": "America/Los_Angeles",
    "las vegas": "America/Los_Angeles",
    "san diego": "America/Los_Angeles",
    "portland": "America/Los_Angeles",
    "washington": "America/New_York",
    "washington dc": "America/New_York",
    "dc": "America/New_York",
    "boston": "America/New_York",
    "miami": "America/New_York",
    "atlanta": "America/New_York",
    "philadelphia": "America/New_York",
    "new york city": "America/New_York",
    "nyc": "America/New_York",
    "houston": "America/Chicago",
    "dallas": "America/Chicago",
    "austin": "America/Chicago",
    "salt lake city": "America/Denver",
    "montreal": "America/Toronto",
    "ottawa": "America/Toronto",
    "quebec": "America/Toronto",
    "calgary": "America/Edmonton",
    "rio": "America/Sao_Paulo",
    "rio de janeiro": "America/Sao_Paulo",
    "brasilia": "America/Sao_Paulo",
    "munich": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "cologne": "Europe/Berlin",
    "geneva": "Europe/Zurich",
    "milan": "Europe/Rome",
    "venice": "Europe/Rome",
    "florence": "Europe/Rome",
    "naples": "Europe/Rome",
    "barcelona": "Europe/Madrid",
    "seville": "Europe/Madrid",
    "valencia": "Europe/Madrid",
    "porto": "Europe/Lisbon",
    "lyon": "Europe/Paris",
    "marseille": "Europe/Paris",
    "nice": "Europe/Paris",
    "edinburgh": "Europe/London",
    "manchester": "Europe/London",
    "glasgow": "Europe/London",
    "cardiff": "Europe/London",
    "belfast": "Europe/London",
    "the hague": "Europe/Amsterdam",
    "rotterdam": "Europe/Amsterdam",
    "st petersburg": "Europe/Moscow",
    "saint petersburg": "Europe/Moscow",
    "cracow": "Europe/Warsaw",
    "krakow": "Europe/Warsaw",
    "beijing": "Asia/Shanghai",
    "peking": "Asia/Shanghai",
    "shenzhen": "Asia/Shanghai",
    "guangzhou": "Asia/Shanghai",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "bombay": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "chennai": "Asia/Kolkata",
    "hyderabad": "Asia/Kolkata",
    "calcutta": "Asia/Kolkata",
    "osaka": "Asia/Tokyo",
    "kyoto": "Asia/Tokyo",
    "abu dhabi": "Asia/Dubai",
    "saigon": "Asia/Ho_Chi_Minh",
    "ho chi minh city": "Asia/Ho_Chi_Minh",
    "hanoi": "Asia/Bangkok",
    "canberra": "Australia/Sydney",
    "wellington": "Pacific/Auckland",
    "cape town": "Africa/Johannesburg",
    "tel aviv": "Asia/Jerusalem",
    "mecca": "Asia/Riyadh",
    "hawaii": "Pacific/Honolulu",
    "alaska": "America/Anchorage",
    # countries with one zone, and the usual zone of large ones
    "uk": "Europe/London",
    "england": "Europe/London",
    "britain": "Europe/London",
    "united kingdom": "Europe/London",
    "ireland": "Europe/Dublin",
    "france": "Europe/Paris",
    "germany": "Europe/Berlin",
    "italy": "Europe/Rome",
    "spain": "Europe/Madrid",
    "portugal": "Europe/Lisbon",
    "netherlands": "Europe/Amsterdam",
    "switzerland": "Europe/Zurich",
    "poland": "Europe/Warsaw",
    "greece": "Europe/Athens",
    "turkey": "Europe/Istanbul",
    "japan": "Asia/Tokyo",
    "china": "Asia/Shanghai",
    "india": "Asia/Kolkata",
    "korea": "Asia/Seoul",
    "south korea": "Asia/Seoul",
    "thailand": "Asia/Bangkok",
    "vietnam": "Asia/Ho_Chi_Minh",
    "israel": "Asia/Jerusalem",
    "egypt": "Africa/Cairo",
    "kenya": "Africa/Nairobi",
    "nigeria": "Africa/Lagos",
    "south africa": "Africa/Johannesburg",
    "new zealand": "Pacific/Auckland",
    "argentina": "America/Argentina/Buenos_Aires",
    "buenos aires": "America/Argentina/Buenos_Aires",
    "peru": "America/Lima",
    "colombia": "America/Bogota",
    "chile": "America/Santiago",
}
_ABBREVIATIONS = {"utc": "UTC", "gmt": "UTC", "z": "UTC", "zulu": "UTC"}
# Old names the database keeps as links; the current name is preferred when a city has both.
_LEGACY_PREFIXES = ("US/", "Etc/", "SystemV/", "Canada/", "Brazil/", "Mexico/", "Chile/")

MONTHS = calendar_months.SPELLINGS  # "sept" → 9
# Words that name no other place: "the time today" is the time here.
HERE = {"here", "today", "now", "time", "local", "local time", "home"}
MAX_DAYS = 36_500  # a hundred years on or back: beyond that a count of days is a typo, not a question
MAX_MONTHS = 1_200  # the same hundred years, in months
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
HOLIDAYS = {
    "christmas": (12, 25),
    "christmas day": (12, 25),
    "christmas eve": (12, 24),
    "boxing day": (12, 26),
    "new year's eve": (12, 31),
    "new years eve": (12, 31),
    "new year": (1, 1),
    "new year's day": (1, 1),
    "new years day": (1, 1),
    "new years": (1, 1),
    "halloween": (10, 31),
    "valentine's day": (2, 14),
    "valentines day": (2, 14),
}
# Feasts that move with Easter (the Western churches' reckoning, dateutil's default), in days from Easter Sunday.
EASTER_FEASTS = {
    "easter": 0,
    "easter sunday": 0,
    "easter day": 0,
    "good friday": -2,
    "holy saturday": -1,
    "easter monday": 1,
    "palm sunday": -7,
    "ash wednesday": -46,
    "shrove tuesday": -47,
    "pancake day": -47,
    "ascension day": 39,
    "pentecost": 49,
    "whit sunday": 49,
    "whitsun": 49,
    "whit monday": 50,
}


@tool("clock")
def clock(
    ctx: ToolContext,
    place: str | None = None,
    date: str | None = None,
    to_date: str | None = None,
    days: int | None = None,
    months: int | None = None,
) -> ToolResult:
    """The time and date now, here or in a city or zone; a date's weekday; days between dates, or days on from one.

    Args:
      place: a city or time zone, e.g. "Tokyo" or "Europe/Paris"; leave out for here
      date: a date, e.g. "2026-12-25", "December 25", "Saturday", "tomorrow": its weekday; a month ("April"): its days
      to_date: count the days until this date, from `date` or else from today
      days: count this many days on from `date` or today: 4 for "4 days after Saturday", -1 for "the day before"
      months: count this many months on from `date` or today: 3 for "in 3 months", -2 for "2 months ago"
    """
    now = ctx.now
    given = {"place": place, "date": date, "to_date": to_date, "days": days, "months": months}
    arguments = {k: v for k, v in given.items() if v}
    if place and place.strip().lower() in HERE:
        arguments.pop("place")
        place = None
    zone = find_zone(place) if place else None  # read first: a place no answer uses is still one the user named
    if months:
        if to_date:
            raise ToolError(
                "The clock counts months on from a date or the days until one, not both; ask one at a time."
            )
        if abs(months) > MAX_MONTHS:
            raise ToolError(f"The clock counts at most {MAX_MONTHS:,} months on or back; ask for a date instead.")
        return _months_on(arguments, date, months, days or 0, now.date())
    if days:
        if to_date:
            raise ToolError("The clock counts days on from a date or the days until one, not both; ask one at a time.")
        if abs(days) > MAX_DAYS:
            raise ToolError(f"The clock counts at most {MAX_DAYS:,} days on or back; ask for a date instead.")
        start = parse_date(date, now.date()) if date else now.date()
        end = _shifted(start, days=days)
        text = _days_on_text(start, end, days, from_today=not date)
        data = {"from": start.isoformat(), "date": end.isoformat(), "weekday": f"{end:%A}", "days": days}
        return ToolResult("clock", arguments, data, text, f"clock · {end:%A}")
    if to_date and not date and parse_date(to_date, now.date()) == now.date():
        arguments.pop("to_date")  # "today's date" asked as days until today: the date now is the answer
    elif to_date:
        start = parse_date(date, now.date()) if date else now.date()
        end = parse_date(to_date, now.date())
        days = (end - start).days
        text = _days_text(start, end, days, from_today=not date, name=None if date else _day_name(to_date))
        data = {"from": start.isoformat(), "to": end.isoformat(), "days": days}
        return ToolResult("clock", arguments, data, text, f"clock · {abs(days)} day{'' if abs(days) == 1 else 's'}")
    month = calendar_months.read(date, now.date()) if date else None
    if month:  # "April", "the sixth month": no day to give the weekday of, but all there is to know of the month
        data = calendar_months.facts(*month)
        text = calendar_months.describe(*month, now.date())
        return ToolResult("clock", arguments, data, text, f"clock · {data['month']}, {data['days']} days")
    day = parse_date(date, now.date()) if date else None
    if day == now.date():  # today's weekday is asked as the time and date now are: one answer says both
        arguments.pop("date")
    elif day is not None:
        verb = "is" if day >= now.date() else "was"
        name = _day_name(date)
        text = f"{name}, {_long_date(day)}, {verb} a {day:%A}." if name else f"{_long_date(day)} {verb} a {day:%A}."
        return ToolResult(
            "clock", arguments, {"date": day.isoformat(), "weekday": f"{day:%A}"}, text, "clock · weekday"
        )
    if zone:
        there = now.astimezone(zoneinfo.ZoneInfo(zone))
        name = zone if "/" in place else place.strip()
        name = string.capwords(name) if name.islower() and len(name) > 3 else name
        if there.date() == now.date():
            text = f"In {name} it's {there:%H:%M} ({zone})."
        else:
            text = f"In {name} it's {there:%H:%M} on {there:%A}, {_long_date(there.date())} ({zone})."
        data = {**_moment(there), "zone": zone}
        return ToolResult("clock", arguments, data, text, f"clock · {name} {there:%H:%M}")
    text = f"It's {now:%H:%M} on {now:%A}, {_long_date(now.date())}."
    return ToolResult("clock", arguments, {**_moment(now), "zone": _zone_name(now)}, text, f"clock · {now:%H:%M}")


def _moment(when: dt.datetime) -> dict:
    return {"time": f"{when:%H:%M}", "date": when.date().isoformat(), "weekday": f"{when:%A}"}


def _zone_name(when: dt.datetime) -> str:
    return getattr(when.tzinfo, "key", None) or when.tzname() or "local"


def _long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _day_name(text: str) -> str | None:
    """The holiday or feast a date is said by ("good friday next year": "Good Friday"), to say it back."""
    text = re.sub(r"\s+(this|next|last) year$", "", " ".join(text.lower().replace("’", "'").split()))
    text = re.sub(r"^(the |last |next |this )", "", text)
    return string.capwords(text) if text in HOLIDAYS or text in EASTER_FEASTS else None


def _days_text(start: dt.date, end: dt.date, days: int, from_today: bool, name: str | None = None) -> str:
    unit = f"{_count(abs(days), 'day')}{_in_weeks(abs(days))}"
    if from_today:
        said = f"{name}, {_long_date(end)}," if name else _long_date(end)
        if days == 0:
            return f"{said} is today."
        if days > 0:
            return f"{said} is in {unit}."
        return f"{said} was {unit} ago."
    if days < 0:  # counted backwards, as asked: no weeks to read it by
        return f"From {_long_date(start)} to {_long_date(end)} is {days} days."
    return f"From {_long_date(start)} to {_long_date(end)} is {unit}."


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def _in_weeks(days: int) -> str:
    """ " (13 weeks)", " (2 weeks and 3 days)": from two weeks on, days are easier read as weeks."""
    if days < 14:
        return ""
    weeks, rest = divmod(days, 7)
    and_days = f" and {_count(rest, 'day')}" if rest else ""
    return f" ({_count(weeks, 'week')}{and_days})"


def _months_on(arguments: dict, date: str | None, count: int, days: int, today: dt.date) -> ToolResult:
    """The month `count` months on from a month said alone ("5 months after September" is February), or the
    date that many months (and `days` days) on from a date or today; a day past the end of the month it
    lands in is that month's last ("a month after January 31" is the last day of February)."""
    way = "after" if count > 0 else "before"
    month = calendar_months.read(date, today) if date and not days else None
    if month:
        number, year = month
        total = (year or 0) * 12 + number - 1 + count
        end, end_year = total % 12 + 1, total // 12 if year is not None else None
        start_name = calendar_months.NAMES[number - 1] + (f" {year}" if year is not None else "")
        end_name = calendar_months.NAMES[end - 1] + (f" {end_year}" if end_year is not None else "")
        data = {**calendar_months.facts(end, end_year), "from": start_name, "months": count}
        text = f"{_count(abs(count), 'month')} {way} {start_name} is {end_name}."
        return ToolResult("clock", arguments, data, text, f"clock · {data['month']}")
    if days and (count > 0) != (days > 0):
        raise ToolError("The clock counts months and days the same way, both on or both back; ask one at a time.")
    start = parse_date(date, today) if date else today
    end = _shifted(start, count, days)
    span = _count(abs(count), "month") + (f" and {_count(abs(days), 'day')}" if days else "")
    if not date:
        text = (
            f"In {span} it will be {end:%A}, {_long_date(end)}."
            if count > 0
            else f"{span} ago it was {end:%A}, {_long_date(end)}."
        )
    else:
        text = f"{span[0].upper()}{span[1:]} {way} {_long_date(start)} is {end:%A}, {_long_date(end)}."
    data = {
        "from": start.isoformat(),
        "date": end.isoformat(),
        "weekday": f"{end:%A}",
        "month": f"{end:%B}",
        "months": count,
    }
    return ToolResult("clock", arguments, {**data, "days": days} if days else data, text, f"clock · {end:%A}")


def _shifted(start: dt.date, months_on: int = 0, days: int = 0) -> dt.date:
    """`start` moved on (or back) by months, then days; a day past the end of a month is its last."""
    from dateutil.relativedelta import relativedelta

    try:
        return start + relativedelta(months=months_on) + dt.timedelta(days=days)
    except (OverflowError, ValueError):
        raise ToolError("That lies outside the calendar (years 1 to 9999); ask for a nearer date.") from None


def _days_on_text(start: dt.date, end: dt.date, days: int, from_today: bool) -> str:
    unit = "day" if abs(days) == 1 else "days"
    if from_today:
        if days > 0:
            return f"In {days} {unit} it will be {end:%A}, {_long_date(end)}."
        return f"{-days} {unit} ago it was {end:%A}, {_long_date(end)}."
    if abs(days) == 1:
        lead = f"The day {'after' if days > 0 else 'before'}"
    else:
        lead = f"{abs(days)} days {'after' if days > 0 else 'before'}"
    return f"{lead} {start:%A}, {_long_date(start)} is {end:%A}, {_long_date(end)}."


def parse_date(text: str, today: dt.date) -> dt.date:
    """A date as people write it; one without a year is its next occurrence from today."""
    raw = text
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.strip().lower().replace(",", " ").replace("’", "'"))
    text = " ".join(w for w in text.split() if w not in ("the", "of", "on"))
    # "Christmas this year", "1 March next year": the year said, from its first day
    year = re.fullmatch(r"(.+?) (this|next|last) year", text)
    if year and not re.search(r"\d{4}", year[1]) and year[1].split()[-1] not in WEEKDAYS:
        shift = {"this": 0, "next": 1, "last": -1}[year[2]]
        return parse_date(year[1], dt.date(today.year + shift, 1, 1))
    if text in ("end month", "end this month"):
        return (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    if text in ("end year", "end this year"):
        return dt.date(today.year, 12, 31)
    if text.startswith("last ") and not re.search(r"\d{4}", text):
        # "last Monday", "last Christmas": the latest one before today (a weekday: a week ago at most)
        rest = text[5:]
        if rest in WEEKDAYS:
            return today - dt.timedelta(days=(today.weekday() - WEEKDAYS.index(rest)) % 7 or 7)
        found = parse_date(rest, today - dt.timedelta(days=365))
        return found if found < today else parse_date(rest, today - dt.timedelta(days=730))
    relative = {"today": 0, "now": 0, "tomorrow": 1, "yesterday": -1, "day after tomorrow": 2}
    if text in relative:
        return today + dt.timedelta(days=relative[text])
    if text in HOLIDAYS:
        return _next(today, *HOLIDAYS[text])
    if text in EASTER_FEASTS:
        return _next_feast(today, EASTER_FEASTS[text])
    match = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
    if match:
        return _make(raw, int(match[1]), int(match[2]), int(match[3]))
    weekday = re.fullmatch(r"(?:next |this |this coming |coming )?(\w+)", text)
    if weekday and weekday[1] in WEEKDAYS:
        ahead = (WEEKDAYS.index(weekday[1]) - today.weekday()) % 7
        return today + dt.timedelta(days=ahead or 7 if text.startswith("next") else ahead)
    if text in MONTHS:  # "until April": the next first of April
        return _next(today, MONTHS[text], 1)
    words = text.split()
    month = [w for w in words if w in MONTHS]
    numbers = [int(w) for w in words if w.isdigit()]
    if len(month) == 1 and 1 <= len(numbers) <= 2 and len(words) == 1 + len(numbers):
        days = [n for n in numbers if n <= 31]
        years = [n for n in numbers if n > 31]
        if len(days) == 1 and len(years) <= 1:
            if years:
                return _make(raw, years[0], MONTHS[month[0]], days[0])
            return _next(today, MONTHS[month[0]], days[0], raw)
    raise ToolError(f"I cannot read the date {raw!r}; write it like 2026-12-25 or December 25.")


def _make(raw: str, year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ToolError(f"There is no such date as {raw!r}; check the day and the month.") from None


def _next(today: dt.date, month: int, day: int, raw: str = "") -> dt.date:
    found = _make(raw or f"{month}/{day}", today.year, month, day) if (month, day) != (2, 29) else None
    if found is None or found < today:
        for year in range(today.year + (found is not None), today.year + 9):
            try:
                return dt.date(year, month, day)
            except ValueError:
                continue
    return found


def _next_feast(today: dt.date, after_easter: int) -> dt.date:
    """The next day, from today, that falls `after_easter` days after Easter Sunday."""
    from dateutil.easter import easter

    this_year = easter(today.year) + dt.timedelta(days=after_easter)
    return this_year if this_year >= today else easter(today.year + 1) + dt.timedelta(days=after_easter)


@functools.cache
def _zone_index() -> dict[str, str]:
    """{"new york": "America/New_York", "europe/paris": "Europe/Paris", ...} from the installed database."""
    index: dict[str, str] = {}
    names = sorted(zoneinfo.available_timezones(), key=lambda z: (z.startswith(_LEGACY_PREFIXES), z.count("/"), z))
    for zone in names:
        index.setdefault(zone.lower(), zone)
        city = zone.rsplit("/", 1)[-1].replace("_", " ").lower()
        index.setdefault(city, zone)
    return index


def find_zone(place: str) -> str:
    """The IANA zone of a city, country or zone name; ToolError when it is not known."""
    key = " ".join(place.strip().lower().replace(".", "").split())
    candidates = [key, key.split(",")[0].strip(), re.sub(r"^(the city of|city of)\s+", "", key)]
    for candidate in candidates:
        if candidate in _ABBREVIATIONS:
            return _ABBREVIATIONS[candidate]
        if candidate in ALIASES:
            return ALIASES[candidate]
        if candidate in _zone_index():
            return _zone_index()[candidate]
    raise ToolError(
        f"I don't know the time zone of {place.strip()!r}; name a large city nearby or a zone like Europe/Paris."
    )


if __name__ == "__main__":
    from assistant.tools import on_command_line

    sys.exit(on_command_line(clock, place=" ".join(sys.argv[1:]) or None))
