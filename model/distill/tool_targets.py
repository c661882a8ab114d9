"""A teacher's sentence that a tool reproduces, taught as the call that computes it.

A small student cannot compute, but it can learn to choose a tool. The teacher often answers
arithmetic and conversions in words that hold the computation itself: "44 ÷ 4 = 11.",
"50% of 400 is 200.", "4 meters is 13.12 feet." Taught those words, the student learns the
shape of the sentence and makes up the number ("12 ÷ 3 = 36"). Taught the call, it learns to
hand the numbers to the tool, which computes them for any numbers.

Weekdays are the same: "3 days after Monday is Thursday." taught as words is recited for the
wrong day; taught as clock(date="Monday", days=3) it is counted.

So a teacher's answer that is one such sentence, and nothing else, is read back into a call
(`calculate` with the left side of the equation; `convert` with the value and the two units;
`clock` with the weekday counted from and the days counted on, negative for "before"), the call
is validated and run here, and only when the tool shows the teacher's number or weekday is the
example taught as the call (Toolformer, Schick et al. 2023, keeps a call where its result gives
the answer). The teacher's number agrees when it is the tool's rounded to the teacher's own
precision, or within half a percent of it. Anything else, a longer answer, a call the tool
refuses, or a number or day that disagrees, is taught as the teacher said it. The three tools
are pure functions of their arguments (a weekday counted on from a weekday is the same whatever
today is): nothing leaves the machine and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import re

from assistant.tools.clock import WEEKDAYS
from assistant.tools.months import NAMES, ORDINALS

NUMBER = r"-?\d[\d,]*(?:\.\d+)?"
# "44 ÷ 4 = 11."  /  "50% of 400 is 200."
EQUATION = re.compile(rf"^\s*(?P<expression>[^=]+?)\s*(?:=|\bis\b|\bequals\b)\s*(?P<result>{NUMBER})\s*\.?\s*$", re.I)
# "4 meters is 13.12 feet."  /  "86 degrees Fahrenheit is 30 degrees Celsius."
CONVERSION = re.compile(
    rf"^\s*(?P<value>{NUMBER})\s+(?P<from_unit>[^\d=]+?)\s+(?:=|is|are|equals)\s+(?:about\s+|approximately\s+)?"
    rf"(?P<result>{NUMBER})\s+(?P<to_unit>[^\d=]+?)\s*\.?\s*$",
    re.I,
)
WEEKDAY = f"(?:{'|'.join(WEEKDAYS)})"
# "The day after Sunday is Monday."  /  "4 days after Saturday is Wednesday."
DAYS_ON = re.compile(
    rf"^\s*(?:the day|(?P<days>\d{{1,3}}) days?)\s+(?P<way>after|before)\s+(?P<start>{WEEKDAY})\s+is\s+"
    rf"(?P<end>{WEEKDAY})\s*\.?\s*$",
    re.I,
)
# "Thursday comes just before Friday."  /  "Monday is the day after Sunday."
COMES = re.compile(
    rf"^\s*(?P<end>{WEEKDAY})\s+(?:comes|is)\s+(?:just\s+|right\s+|the\s+day\s+)?(?P<way>after|before)\s+"
    rf"(?P<start>{WEEKDAY})\s*\.?\s*$",
    re.I,
)
MONTH = f"(?:{'|'.join(NAMES)})"
ORDINAL = f"(?:{'|'.join(ORDINALS)}|last)"
# "April has 30 days."  /  "In a leap year February has 29 days."
MONTH_DAYS = re.compile(
    rf"^\s*(?:in a leap year,?\s+)?(?P<month>{MONTH})\s+has\s+(?P<days>\d{{2}})\s+days(?:\s+in a leap year)?\s*\.?\s*$",
    re.I,
)
# "January comes after December."  /  "April follows March."  /  "The month after March is April."
MONTH_ORDER = re.compile(
    rf"^\s*(?:(?P<end>{MONTH})\s+(?:comes\s+(?:just\s+|right\s+)?(?P<way>after|before)|(?P<follows>follows|precedes))"
    rf"|the\s+month\s+(?P<way2>after|before)\s+(?P<start2>{MONTH})\s+is\s+(?P<end2>{MONTH}))"
    rf"(?:\s+(?P<start>{MONTH}))?\s*\.?\s*$",
    re.I,
)
# "The sixth month of the year is June."  /  "December is the last month of the year."
MONTH_PLACE = re.compile(
    rf"^\s*(?:the\s+(?P<ordinal>{ORDINAL})\s+month(?:\s+of\s+the\s+year)?\s+is\s+(?P<month>{MONTH})"
    rf"|(?P<month2>{MONTH})\s+is\s+the\s+(?P<ordinal2>{ORDINAL})\s+month(?:\s+of\s+the\s+year)?)\s*\.?\s*$",
    re.I,
)
SHOWN = {"calculate": "value", "convert": "result"}  # where each tool's result keeps the number it shows
RELATIVE = 0.005  # a teacher's number within half a percent of the tool's agrees


# "If today is Saturday, …", "Suppose today is a Monday. …", "Today's a Friday, so …": the day counted from
SUPPOSED = re.compile(
    rf"\b(?:(?:if|suppose|supposing|say|assuming|imagine)\b[^.?!]*?\btoday\s+(?:is|was)|today's)\s+(?:a\s+)?"
    rf"(?P<day>{WEEKDAY})\b",
    re.I,
)
# the days on from it that the question asks about, first match wins
OFFSETS = (
    (re.compile(r"\bday after tomorrow\b", re.I), 2),
    (re.compile(r"\bday before yesterday\b", re.I), -2),
    (re.compile(r"\btomorrow\b", re.I), 1),
    (re.compile(r"\byesterday\b", re.I), -1),
    (re.compile(r"\bin (\d{1,3}) days?\b|\b(\d{1,3}) days? (?:from now|from today|later|on)\b", re.I), +1),
    (re.compile(r"\b(\d{1,3}) days? ago\b", re.I), -1),
)


def targets(examples) -> dict[int, str]:
    """Example id → the call to teach, for each example whose teacher's answer a tool reproduces."""
    return {ex.id: call for ex in examples if (call := target(ex.answer) or supposed_target(ex.query, ex.answer))}


def supposed_target(query: str, answer: str) -> str | None:
    """The clock call that counts on from a weekday the user supposes ("If today is Saturday, what day
    is it tomorrow?" → clock(date="Saturday", days=1)), when the teacher's one-sentence answer names
    the weekday it shows ("Tomorrow is Sunday."); None otherwise. Unlike `target`, this needs the
    query: the answer alone does not say which day was counted from."""
    from assistant.tools.fastpath import words_to_digits

    supposed = SUPPOSED.search(query or "")
    if supposed is None or not answer or "\n" in answer.strip() or len(answer) > 80:
        return None
    said = {day for day in WEEKDAYS if re.search(rf"\b{day}\b", answer, re.I)} - {supposed["day"].lower()}
    if len(said) != 1:
        return None
    rest = words_to_digits(query[supposed.end() :])
    for pattern, sign in OFFSETS:
        if found := pattern.search(rest):
            numbers = [g for g in found.groups() if g]
            days = sign * int(numbers[0]) if numbers else sign
            return _checked("clock", {"date": supposed["day"].capitalize(), "days": days}, said.pop()) if days else None
    return None


def target(answer: str) -> str | None:
    """The call to teach in place of the teacher's `answer`, as the student writes it; None to keep the words."""
    from assistant.tools.calls import has_call

    if not answer or has_call(answer) or "\n" in answer.strip():
        return None
    if found := CONVERSION.match(answer):
        arguments = {
            "value": _number(found["value"]),  # validation writes 4.0 as 4
            "from_unit": found["from_unit"].strip(),
            "to_unit": found["to_unit"].strip(),
        }
        return _checked("convert", arguments, found["result"])
    if (found := EQUATION.match(answer)) and re.search(r"\d", found["expression"]):
        return _checked("calculate", {"expression": found["expression"].strip()}, found["result"])
    if found := DAYS_ON.match(answer) or COMES.match(answer):
        days = int(found.groupdict().get("days") or 1)
        arguments = {"date": found["start"].capitalize(), "days": days if found["way"].lower() == "after" else -days}
        return _checked("clock", arguments, found["end"])
    return _month_target(answer)


def _month_target(answer: str) -> str | None:
    """The clock call that answers a month's length, neighbour or place in the year as the teacher did."""
    if found := MONTH_DAYS.match(answer):
        return _checked("clock", {"date": found["month"].capitalize()}, found["days"], shown="days")
    if (found := MONTH_ORDER.match(answer)) and (found["start"] or found["start2"]):
        if found["end2"]:
            start, end, way = found["start2"], found["end2"], found["way2"]
        else:
            start, end = found["start"], found["end"]
            way = found["way"] or ("after" if found["follows"].lower() == "follows" else "before")
        # "January comes after December": December's answer names January as the month after it
        return _checked(
            "clock", {"date": start.capitalize()}, end, shown="after" if way.lower() == "after" else "before"
        )
    if found := MONTH_PLACE.match(answer):
        ordinal, month = (found["ordinal"] or found["ordinal2"]).lower(), found["month"] or found["month2"]
        date = "last month of the year" if ordinal == "last" else f"{ordinal} month"
        return _checked("clock", {"date": date}, month, shown="month")
    return None


def _checked(name: str, arguments: dict, said: str, shown: str = "") -> str | None:
    """The call, formatted, if it validates, runs, and shows the number (or weekday, or the month
    fact `shown`) the teacher said."""
    from assistant import tools
    from assistant.tools.calls import ToolCall, format_call

    try:
        valid = tools.validate(name, arguments)
        # these tools read no store, and their answer here does not depend on today's date
        result = tools.run(name, valid, tools.ToolContext(store=None, now=dt.datetime.now(dt.UTC)))
    except tools.ToolError:
        return None
    if name == "clock":
        if shown == "days":  # February's answer gives both lengths, and a teacher may say either
            right = said in re.findall(r"\d+", result.text)
        else:
            right = str(result.data.get(shown or "weekday", "")).lower() == said.lower()
        return format_call(ToolCall(name, valid)) if right else None
    shown = result.data.get(SHOWN[name])
    if not isinstance(shown, int | float) or not agrees(float(shown), said):
        return None
    return format_call(ToolCall(name, valid))


def agrees(computed: float, said: str) -> bool:
    """Whether the teacher's number `said` is `computed` as the teacher would write it."""
    value = _number(said)
    decimals = len(said.split(".")[1]) if "." in said else 0
    if abs(computed - value) <= 0.5 * 10**-decimals + 1e-9:
        return True
    return abs(computed - value) <= RELATIVE * max(abs(computed), 1e-12)


def _number(text: str) -> float:
    return float(text.replace(",", ""))
