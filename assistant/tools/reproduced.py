"""A sentence a tool reproduces, and the call that shows it: "44 ÷ 4 = 11." is calculate("44 ÷ 4"),
"4 meters is 13.12 feet." is convert(4, "meters", "feet"), "3 days after Monday is Thursday." is
clock(date="Monday", days=3), "April has 30 days." is clock(date="April"), "Five months after
September is February." is clock(date="September", months=5).

A sentence that is one such claim and nothing else is read back into its call, the call is
validated and run here, and the call is given only when the tool shows the sentence's number,
weekday or month (a number as the sentence rounded it, or within half a percent). Three uses: a
teacher's sentence is taught as the call (model/distill/tool_targets.py); a student's sentence
that its call shows, where that call could stand for the query, is an answer as sure as the call
(the cascade, assistant/core.py); and a student's sentence that the call shows false, where that
call stands for the query, names the computation the user asked for, which the tool then answers
(`claimed_call`: "The day after Tuesday is Friday." for "What day comes after Tuesday?"). The
three tools are pure functions of their arguments (a weekday counted on from a weekday is the same
whatever today is): nothing leaves the machine and nothing is stored.

    python -m assistant.tools.reproduced "The month after December is January."
"""

from __future__ import annotations

import datetime as dt
import re
import sys

from assistant.tools.claims import COUNTS
from assistant.tools.clock import WEEKDAYS
from assistant.tools.months import NAMES, ORDINALS

NUMBER = r"-?\d[\d,]*(?:\.\d+)?"
# "44 ÷ 4 = 11."  /  "50% of 400 is 200."
EQUATION = re.compile(rf"^\s*(?P<expression>[^=]+?)\s*(?:=|\bis\b|\bequals\b)\s*(?P<result>{NUMBER})\s*\.?\s*$", re.I)
# "4 meters is 13.12 feet."  /  "86 degrees Fahrenheit is 30 degrees Celsius."
CONVERSION = re.compile(
    rf"^\s*(?P<value>{NUMBER})\s+(?P<from_unit>[^\d=]+?)\s+(?:=|is|are|equals|(?:is|are) equal to)\s+"
    rf"(?:about\s+|approximately\s+)?(?P<result>{NUMBER})\s+(?P<to_unit>[^\d=]+?)\s*\.?\s*$",
    re.I,
)
WEEKDAY = f"(?:{'|'.join(WEEKDAYS)})"
# "The day after Sunday is Monday."  /  "4 days after Saturday is Wednesday."
COUNT = rf"\d{{1,3}}|{'|'.join(COUNTS)}"
DAYS_ON = re.compile(
    rf"^\s*(?:the day|(?P<days>{COUNT}) days?)\s+(?P<way>after|before)\s+(?P<start>{WEEKDAY})\s+is\s+"
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
# "Five months after September is February."  /  "Three months on from October is January."
MONTHS_ON = re.compile(
    rf"^\s*(?P<count>{COUNT})\s+months?\s+(?:(?P<way>after|before)|on\s+from|from)\s+(?P<start>{MONTH})\s+"
    rf"(?:is|will\s+be)\s+(?P<end>{MONTH})\s*\.?\s*$",
    re.I,
)
# "The sixth month of the year is June."  /  "December is the last month of the year."
MONTH_PLACE = re.compile(
    rf"^\s*(?:the\s+(?P<ordinal>{ORDINAL})\s+month(?:\s+of\s+the\s+year)?\s+is\s+(?:the\s+month\s+of\s+)?(?P<month>{MONTH})"
    rf"|(?P<month2>{MONTH})\s+is\s+the\s+(?P<ordinal2>{ORDINAL})\s+month(?:\s+of\s+the\s+year)?)\s*\.?\s*$",
    re.I,
)
SHOWN = {"calculate": "value", "convert": "result"}  # where each tool's result keeps the number it shows
RELATIVE = 0.005  # a teacher's number within half a percent of the tool's agrees


def target(answer: str) -> str | None:
    """The call to teach in place of the teacher's `answer`, as the student writes it; None to keep the words."""
    from assistant.tools.calls import format_call

    call = call_of(answer)
    return format_call(call) if call else None


def call_of(sentence: str):
    """The call (a ToolCall) a tool shows `sentence` by, when it is one such claim and nothing else; else None."""
    read = _claim(sentence)
    return checked(*read) if read else None


def claimed_call(sentence: str):
    """The call (a ToolCall) that `sentence`'s one claim is about, whatever the claim says it shows, when
    the call validates and runs: "The day after Tuesday is Friday." is clock(date="Tuesday", days=1),
    which shows Wednesday; else None."""
    read = _claim(sentence)
    if read is None:
        return None
    return checked(read[0], read[1], None)


def _claim(sentence: str) -> tuple[str, dict, str, str] | None:
    """`sentence` read as one claim and nothing else: (tool, arguments, what it says the tool shows,
    which of the result's facts that is); None for any other sentence, or a unit said to be itself
    ("200 quarter = 200 quarter"), which claims nothing."""
    from assistant.tools.calls import has_call

    if not sentence or has_call(sentence) or "\n" in sentence.strip():
        return None
    if (found := CONVERSION.match(sentence)) and found["from_unit"].lower() != found["to_unit"].lower():
        arguments = {
            "value": _number(found["value"]),  # validation writes 4.0 as 4
            "from_unit": found["from_unit"].strip(),
            "to_unit": found["to_unit"].strip(),
        }
        return "convert", arguments, found["result"], ""
    if (found := EQUATION.match(sentence)) and re.search(r"\d", found["expression"]):
        return "calculate", {"expression": found["expression"].strip()}, found["result"], ""
    if found := DAYS_ON.match(sentence) or COMES.match(sentence):
        written = (found.groupdict().get("days") or "1").lower()
        days = COUNTS[written] if written in COUNTS else int(written)
        arguments = {"date": found["start"].capitalize(), "days": days if found["way"].lower() == "after" else -days}
        return "clock", arguments, found["end"], ""
    return _month_claim(sentence)


def _month_claim(answer: str) -> tuple[str, dict, str, str] | None:
    """A claim about a month's length, neighbour or place in the year, read as its clock call."""
    if found := MONTH_DAYS.match(answer):
        return "clock", {"date": found["month"].capitalize()}, found["days"], "days"
    if (found := MONTH_ORDER.match(answer)) and (found["start"] or found["start2"]):
        if found["end2"]:
            start, end, way = found["start2"], found["end2"], found["way2"]
        else:
            start, end = found["start"], found["end"]
            way = found["way"] or ("after" if found["follows"].lower() == "follows" else "before")
        # "January comes after December": December's answer names January as the month after it
        return "clock", {"date": start.capitalize()}, end, "after" if way.lower() == "after" else "before"
    if found := MONTHS_ON.match(answer):
        written = found["count"].lower()
        count = COUNTS[written] if written in COUNTS else int(written)
        count = -count if (found["way"] or "").lower() == "before" else count
        return "clock", {"date": found["start"].capitalize(), "months": count}, found["end"], "month"
    if found := MONTH_PLACE.match(answer):
        ordinal, month = (found["ordinal"] or found["ordinal2"]).lower(), found["month"] or found["month2"]
        date = "last month of the year" if ordinal == "last" else f"{ordinal} month"
        return "clock", {"date": date}, month, "month"
    return None


def checked(name: str, arguments: dict, said: str | None, shown: str = ""):
    """The call (a ToolCall) if it validates, runs, and shows the number (or weekday, or the month
    fact `shown`) the sentence said (`said` None: whatever it shows); else None."""
    from assistant import tools
    from assistant.tools.calls import ToolCall

    try:
        valid = tools.validate(name, arguments)
        # these tools read no store, and their answer here does not depend on today's date
        result = tools.run(name, valid, tools.ToolContext(store=None, now=dt.datetime.now(dt.UTC)))
    except tools.ToolError:
        return None
    if said is None:
        return ToolCall(name, valid)
    if name == "clock":
        if shown == "days":  # February's answer gives both lengths, and a teacher may say either
            right = said in re.findall(r"\d+", result.text)
        else:
            right = str(result.data.get(shown or "weekday", "")).lower() == said.lower()
        return ToolCall(name, valid) if right else None
    shown = result.data.get(SHOWN[name])
    if not isinstance(shown, int | float) or not agrees(float(shown), said):
        return None
    return ToolCall(name, valid)


def agrees(computed: float, said: str) -> bool:
    """Whether the teacher's number `said` is `computed` as the teacher would write it."""
    value = _number(said)
    decimals = len(said.split(".")[1]) if "." in said else 0
    if abs(computed - value) <= 0.5 * 10**-decimals + 1e-9:
        return True
    return abs(computed - value) <= RELATIVE * max(abs(computed), 1e-12)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


if __name__ == "__main__":
    print(target(" ".join(sys.argv[1:])))
