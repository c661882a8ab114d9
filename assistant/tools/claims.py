"""Whether a sentence the student said can stand as an answer: it says something, and nothing this
machine can show is false.

A small student's sentences about the calendar and about numbers are often wrong and sure: "The day
after Tuesday is Friday.", "The sixth month of the year is January.", "12 × 4 = 46.". Its mean
log-probability cannot tell those from a fact it knows ("The capital of Kenya is Nairobi."), so one
cascade line for every sentence trades the facts it knows against the dates it gets wrong. But such
a claim can be checked here, without a model: the calendar knows which day follows Tuesday,
arithmetic knows 12 × 4, pint knows how many metres make a mile. Three more answers say nothing,
however sure: the user's request said back ("Remind me to call mum in 60 minutes."), which sets no
reminder; a tool's report of its work said in words where no call ran ("Noted: the sea", a distilled
student's imitation of the note tool's reply to "greek god of the sea, who's that again?"), which
saved nothing; and a few words over and over ("I'm sorry, I'm sorry, I'm sorry"). Such a sentence cannot
stand; the cascade sends it on where the teacher can be asked (`CascadeStep.sure`), and a cascade
line counts no risk from it, as from a call that cannot stand (`assistant.tools.standing`).

Only claims in a form read here are checked, each a pattern of a few words ("the day after X is
Y", "X has N days", "a + b = c", "the square root of N is M", "5 miles is 8 kilometres"); a
sentence that says anything else is left to the line. A claim the check cannot read is never
doubted: what the checks cost is a wrong sentence kept, not a right one sent on. Of the default
student's 343 answers in words to the shipped train queries that reach the cascade, they doubt 72,
all of them wrong: 56 claims shown false, 9 requests said back, 7 repeats (README, The router).

    python -m assistant.tools.claims "The month after February is December."
"""

from __future__ import annotations

import calendar
import math
import re
import sys

from assistant.tools.months import ORDINALS

WEEKDAYS = [d.lower() for d in calendar.day_name]  # monday first, as datetime counts
MONTHS = [m.lower() for m in calendar.month_name[1:]]  # january first
COUNTS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine ten".split())}

WD = "(" + "|".join(WEEKDAYS) + ")"
MN = "(" + "|".join(MONTHS) + ")"
ORD = "(" + "|".join(ORDINALS) + ")"
COUNT = r"(\d+|" + "|".join(COUNTS) + ")"
NUM = r"(-?\d+(?:,\d{3})*(?:\.\d+)?)"
IS = r"(?:is|was|will be|would be|falls on|comes)"  # the verb of a claim
# Up to three words between the verb and what it claims: "is the month of January", "will be a Friday".
FILLER = r"(?:\s+(?!" + "|".join(WEEKDAYS + MONTHS) + r")[\w']+){0,3}?"

DAY_STEP = re.compile(rf"\b{COUNT}?\s*days? (after|before|from) {WD}\b[^.?!;]*?\b{IS}{FILLER}\s+{WD}\b", re.I)
DAY_ORDER = re.compile(rf"\b{WD} (?:comes|is|falls) (?:right |just |immediately )?(after|before) {WD}\b", re.I)
MONTH_STEP = re.compile(rf"\b{COUNT}?\s*months? (after|before|from) {MN}\b[^.?!;]*?\b{IS}{FILLER}\s+{MN}\b", re.I)
MONTH_ORDER = re.compile(rf"\b{MN} (?:comes|is) (?:right |just |immediately )?(after|before) {MN}\b", re.I)
MONTH_ORDINAL = re.compile(rf"\b{ORD} month(?: of the year)?\b[^.?!;]*?\b{IS}{FILLER}\s+{MN}\b", re.I)
ORDINAL_MONTH = re.compile(rf"\b{MN} is the {ORD} month\b", re.I)
MONTH_DAYS = re.compile(rf"\b{MN} (?:has|had|contains) {NUM} days\b|\b{NUM} days in {MN}\b", re.I)
OPERATORS = {
    "+": lambda a, b: a + b,
    "plus": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "−": lambda a, b: a - b,
    "minus": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "×": lambda a, b: a * b,
    "x": lambda a, b: a * b,
    "times": lambda a, b: a * b,
    "multiplied by": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else None,
    "÷": lambda a, b: a / b if b else None,
    "divided by": lambda a, b: a / b if b else None,
}
OPERATOR = "(" + "|".join(re.escape(o) for o in sorted(OPERATORS, key=len, reverse=True)) + ")"
# "12 × 4 = 48", "12 times 4 is 48"; not part of a longer expression ("2 + 3 * 4 = 14"), nor a date or a range.
ARITHMETIC = re.compile(
    rf"(?<![\w.,^*/×÷+\-−]){NUM}\s*{OPERATOR}\s*{NUM}\s*(?:=|is|equals|makes|gives)\s*(?:about\s+)?{NUM}(?![\w^*/×÷+\-−]|\.\d|,\d)",
    re.I,
)
# A tool's own report of what it did ("Noted: the sea", "Timer “pasta” set for 12 minutes…",
# "Reminder set: …"), said in words where no call ran: nothing was saved or set, whatever it says.
ACTION_REPORTED = re.compile(r"^\W*(?:noted:|(?:timer|alarm|reminder)\b[^.\n]{0,60}?\bset\b)", re.I)
# "90 = 90", "200 quarter = 200 quarter": an equation that computes nothing ("Half of 90 is what?")
SAME_BOTH_SIDES = re.compile(r"^\s*([^=\n]+?)\s*=\s*([^=\n]+?)\s*\.?\s*$")
UNIT = r"([a-zA-Z°][a-zA-Z° ]{0,20}?)"
CONVERSION = re.compile(
    rf"(?<![\w.,^]){NUM}\s*{UNIT}\s+(?:is|are|equals?|(?:is|are) equal to|(?:is|are) equivalent to|equivalent to|"
    rf"converts? to|makes?|(?:is|are) the same as)\s+(?:about |approximately |roughly |around |exactly )?{NUM}\s*{UNIT}"
    r"(?=[\s.,;!?)]|$)(?!\s*\^)",
    re.I,
)
TOLERANCE = 0.02  # a stated conversion within 2% is right: "1 mile is 1.6 km" (1.609)
# A stated result that is no expression of its own ("is 0.10 * 120"), read whole ("0.10", not "0.1").
NOT_OPERATED = r"(?![\d*×·/÷+\-−^]|\s*[*×·/÷+\-−^]|\.\d|,\d)"
ROOT = re.compile(rf"\bsquare root of {NUM} (?:is|=|equals)\s*(?:about |approximately )?{NUM}{NOT_OPERATED}", re.I)
PERCENT = re.compile(
    rf"(?<![\w.]){NUM}\s*(?:%|percent|per cent) of {NUM} (?:is|=|equals)\s*(?:about )?{NUM}{NOT_OPERATED}", re.I
)
# "add 467 and 10, you get 470", "multiply 20 by 120, which is 240": an operation said in words.
VERB_OPERATION = re.compile(
    rf"\b(add|multiply|subtract|divide)(?:ing)? {NUM} (and|by|from) {NUM}\b[^.?!;]*?"
    rf"\b(?:get|is|gives|makes|equals|=)\s*(?:about )?{NUM}{NOT_OPERATED}",
    re.I,
)
VERBS = {
    ("add", "and"): lambda a, b: a + b,
    ("multiply", "by"): lambda a, b: a * b,
    ("subtract", "from"): lambda a, b: b - a,
    ("divide", "by"): lambda a, b: a / b if b else None,
}
# The same few words three times running: "I'm sorry, I'm sorry, I'm sorry", "752 - 2 = 752 - 2 = 752 - 2 =".
REPEATS = re.compile(r"(.{4,60}?)\1{2,}", re.S)


def _said(claim: str, truth: str) -> str:
    return f"its answer says “{claim.strip()}”, where {truth}"


def sentence_doubt(query: str, text: str) -> str | None:
    """Why the student's sentence cannot stand as the answer to `query`, as a reason the router shows:
    it only says the request back, it reports a tool's work that no call did ("Noted: the sea"), it
    repeats itself, it says a thing equals itself ("90 = 90"), or a claim in it is shown false; None
    when it can."""
    if not text or "<tool_call>" in text:
        return None
    if query and _plain(text) == _plain(query):
        return "its answer only says your request back"
    if ACTION_REPORTED.match(text):
        said = text.strip().splitlines()[0]
        said = said if len(said) <= 48 else said[:47].rstrip() + "…"
        return f"its answer says “{said}” in words, but no tool ran: nothing was saved or set"
    if (m := REPEATS.search(text)) and re.search(r"\w", m[1]) and re.search(r"\s", m[1].strip()):  # not "1.1111"
        return f"its answer repeats “{m[1].strip()}” over and over"
    if (m := SAME_BOTH_SIDES.match(text)) and _plain(m[1]) == _plain(m[2]):
        return f"its answer only says “{m[1].strip()}” is itself"
    return contradiction(text)


def contradiction(text: str) -> str | None:
    """Why a sentence cannot stand: a claim in it that the calendar, arithmetic or pint contradicts,
    said as a reason the router shows; None when no claim read here is false."""
    if not text or "<tool_call>" in text:
        return None
    return next((reason for check in CHECKS if (reason := check(text))), None)


def _plain(text: str) -> str:
    return " ".join(re.findall(r"[\w']+", text.lower()))


def _weekday_steps(text: str) -> str | None:
    for m in DAY_STEP.finditer(text):
        count, way, start, said = m.groups()
        n = _count(count) if count else 1
        if n is None:
            continue
        days = n if way.lower() in ("after", "from") else -n
        right = WEEKDAYS[(WEEKDAYS.index(start.lower()) + days) % 7]
        if said.lower() != right:
            return _said(m.group(0), f"the calendar says {right.title()}")
    return _neighbour(DAY_ORDER, WEEKDAYS, text)


def _month_steps(text: str) -> str | None:
    for m in MONTH_STEP.finditer(text):
        count, way, start, said = m.groups()
        n = _count(count) if count else 1
        if n is None:
            continue
        right = MONTHS[(MONTHS.index(start.lower()) + (-n if way.lower() == "before" else n)) % 12]
        if said.lower() != right:
            return _said(m.group(0), f"the calendar says {right.title()}")
    if reason := _neighbour(MONTH_ORDER, MONTHS, text):
        return reason
    for m in MONTH_ORDINAL.finditer(text):
        ordinal, said = (g.lower() for g in m.groups())
        right = MONTHS[ORDINALS[ordinal] - 1]
        if said != right:
            return _said(m.group(0), f"the calendar says {right.title()}")
    for m in ORDINAL_MONTH.finditer(text):
        said, ordinal = (g.lower() for g in m.groups())
        if MONTHS.index(said) + 1 != ORDINALS[ordinal]:
            return _said(m.group(0), f"the calendar says it is month {MONTHS.index(said) + 1}")
    return None


def _neighbour(pattern: re.Pattern, names: list[str], text: str) -> str | None:
    """A claim that one day or month comes right after or before another ("Sunday comes after
    Tuesday"), read by `pattern` as (name, "after" or "before", other name) in the cycle `names`."""
    for m in pattern.finditer(text):
        name, way, other = (g.lower() for g in m.groups())
        right = names[(names.index(other) + (1 if way == "after" else -1)) % len(names)]
        if name != right:
            return _said(m.group(0), f"the calendar says {right.title()} comes {way} {other.title()}")
    return None


def _month_lengths(text: str) -> str | None:
    for m in MONTH_DAYS.finditer(text):
        month, days = (m[1], m[2]) if m[1] else (m[4], m[3])
        index = MONTHS.index(month.lower()) + 1
        lengths = {calendar.monthrange(year, index)[1] for year in (2023, 2024)}  # February: 28 or 29
        if _number(days) not in lengths:
            right = " or ".join(str(n) for n in sorted(lengths))
            return _said(m.group(0), f"the calendar says {month.title()} has {right} days")
    return None


def _arithmetic(text: str) -> str | None:
    for m in ARITHMETIC.finditer(text):
        if _in_longer_expression(text, m):
            continue
        a, op, b, said = _number(m[1]), m[2].lower(), _number(m[3]), _number(m[4])
        right = OPERATORS[op](a, b)
        if _shown_false(said, right, m[4]):
            return _said(m.group(0), f"it is {_show(right)}")
    return None


def _operations_in_words(text: str) -> str | None:
    for m in VERB_OPERATION.finditer(text):
        operate = VERBS.get((m[1].lower(), m[3].lower()))
        right = operate(_number(m[2]), _number(m[4])) if operate else None
        if _shown_false(_number(m[5]), right, m[5]):
            return _said(m.group(0), f"it is {_show(right)}")
    return None


def _roots_and_percentages(text: str) -> str | None:
    for m in ROOT.finditer(text):
        radicand = _number(m[1])
        right = math.sqrt(radicand) if radicand >= 0 else None
        if _shown_false(_number(m[2]), right, m[2]):
            return _said(m.group(0), f"it is {_show(right)}")
    for m in PERCENT.finditer(text):
        right = _number(m[1]) * _number(m[2]) / 100
        if _shown_false(_number(m[3]), right, m[3]):
            return _said(m.group(0), f"it is {_show(right)}")
    return None


def _conversions(text: str) -> str | None:
    from assistant.tools import ToolError
    from assistant.tools.convert import _unit, registry

    for m in CONVERSION.finditer(text):
        value, said = _number(m[1]), _number(m[3])
        try:
            ureg = registry()
            source, target = _unit(ureg, m[2].strip()), _unit(ureg, m[4].strip())
            right = ureg.Quantity(value, source).to(target).magnitude
        except (ToolError, Exception):  # a unit pint cannot read, or two that do not convert: no claim read
            continue
        if not (math.isfinite(said) and math.isfinite(right)):  # a number too long for a float shows nothing
            continue
        if not math.isclose(said, right, rel_tol=TOLERANCE, abs_tol=0.05):
            return _said(m.group(0), f"it is {_show(right)} {m[4].strip()}")
    return None


def _in_longer_expression(text: str, m: re.Match) -> bool:
    """Whether a claim "a op b = c" is part of a longer one ("2 + 3 * 4 = 14"), which is not read here."""
    before, after = text[: m.start()].rstrip(), text[m.end() :].lstrip()
    signs = "+-−*/×÷^=("
    return bool(before) and before[-1] in signs or bool(after) and after[0] in signs + ")"


CHECKS = (
    _weekday_steps,
    _month_steps,
    _month_lengths,
    _arithmetic,
    _operations_in_words,
    _roots_and_percentages,
    _conversions,
)


def _count(word: str) -> int | None:
    word = word.lower()
    return int(word) if word.isdigit() else COUNTS.get(word)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _shown_false(said: float, right: float | None, written: str) -> bool:
    """Whether a stated result is shown false: it is neither the value nor the value rounded to the
    decimals written. A result with no real value (the root of a negative, a number too long for a
    float) shows nothing, so it is never doubted."""
    if right is None or not (math.isfinite(said) and math.isfinite(right)):
        return False
    decimals = len(written.split(".")[1]) if "." in written else 0
    agrees = math.isclose(said, right, rel_tol=1e-9, abs_tol=1e-9) or abs(said - right) <= 0.5 * 10**-decimals + 1e-9
    return not agrees


def _show(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"


if __name__ == "__main__":
    print(sentence_doubt("", " ".join(sys.argv[1:])) or "nothing read here keeps it from standing")
