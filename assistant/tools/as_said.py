"""A call as the tool runs it for what the user said: what a small model left out or cut short, filled
in from the user's own words, or what it took another way than they said it (two numbers the other way
round, a number doubled as tripled, the days on from a weekday they count from or suppose a day is, a
month by its place in the year, the time now somewhere else, a question for a quantity in another unit
asked of the calculator, the clock or a timer), set as they said it; nothing else changed.

The student copies numbers well and drops the rest: the half of the day ("6:10 tomorrow morning" as
"6:10"), the name of a timer ("40 minute countdown for the laundry" as a bare timer), what a
reminder is for ("Tell me to water the plants in 4 hours" as a timer) and where it ends ("take the
bins out in 45 minutes"), the end of a note ("jot this down: the parking spot is level 3, row F" cut
at the comma), and which way a note goes ("what did I write down about the landlord?" saved as a
note). Each rewrite reads the words by the same patterns the checks in `grounding` doubt such a call
with, and changes a call only where one reading of the user's words fills what it left out; every
check then judges, and the tool runs, the call as said. Notes never leave this machine, so no
teacher can set a note call right: this is the only second look they get.
"""

from __future__ import annotations

import re

from assistant.tools.calls import ToolCall
from assistant.tools.grounding import (
    COUNT_ASKED,
    DURATIONS,
    FOR_ME,
    NUMBER,
    QUESTION,
    REMIND_TO,
    SAVE_NOTE,
    SUPPOSED_FROM_TODAY,
    TELL_ME,
    WORD,
    computation_cut,
    day_of_month_said,
    half_said,
    month_by_place,
    names_given,
    next_to_month,
    next_to_weekday,
    operands_swapped,
    other_half_of_day,
    place_asked,
    said_units,
    scaled_said,
    time_now_asked,
    unasked_setting,
    unnamed_setting,
    weekday_counted,
)


def as_said(query: str, call: ToolCall) -> ToolCall:
    """The call as the tool runs it for `query`: a calculation of a quantity into another unit made that
    conversion (`with_conversion_said`), a difference or a quotient taken in the order the user said its
    two numbers (`with_operands_said`), a calculation cut short given the rest of what the user said to
    compute (`with_computation_said`), a number doubled, halved or taken a part of as said
    (`with_scaling_said`), a day counted on from the weekday the user counts from or supposes a day is
    by the days they said (`with_supposed_said`), the day just after or before a weekday counted one day
    on or back (`with_next_day_said`), a question for the month after or before another made the call
    for that month (`with_next_month_said`), a month asked by its place made the call for it
    (`with_month_said`), a date said split into its month and a count of days made whole again
    (`with_date_said`), a date's own number taken for a count of days on from it made the count of
    days until it (`with_count_said`), a count of days on from a month whose length the user asked
    made the call for that month (`with_length_said`), the time now told here or where the user asked
    (`with_time_said`), a clock time read in the half of the day the user said (`with_half_said`), a
    timer or alarm set for a request to be reminded of something made the reminder that says it
    (`with_task_said`), a timer or
    alarm given the name the user gave outright (`with_name_said`), a reminder's words without the
    time it is for (`with_task_cut`), a note saved for a question about the user's own notes made the
    search (`with_search_said`), and a note cut short given the whole of what the user said to save
    (`with_note_said`). Every check judges, and the tool runs, this call."""
    # a reminder first: a name read from the request would keep a timer that should say what it is for
    rewrites = (
        with_conversion_said,
        with_operands_said,
        with_computation_said,
        with_scaling_said,
        with_supposed_said,
        with_next_day_said,
        with_next_month_said,
        with_month_said,
        with_count_said,
        with_length_said,
        with_date_said,
        with_time_said,
        with_half_said,
        with_task_said,
        with_task_cut,
        with_name_said,
        with_search_said,
        with_note_said,
    )
    for rewrite in rewrites:
        call = rewrite(query, call)
    return call


# The user speaking of what they recorded ("did I save", "what did I write down"): a question about their
# own notes, not one about who wrote a book or where "I would find" a city.
MINE = re.compile(r"\b(?:i|i've|i'd|me|my|mine|our)\b", re.I)
RECORDED = re.compile(
    r"\b(?:notes?|noted|sav(?:e|ed)|wr(?:ite|ote|itten)|jot(?:ted)?|remember(?:ed)?|told you|stored?|kept|logged)\b",
    re.I,
)


def with_search_said(query: str, call: ToolCall) -> ToolCall:
    """A note saved for a question about the user's own notes ("what did I write down about the
    landlord?" as note(text="the landlord")) made the search for the same words (note(find="the
    landlord")): a question saves nothing, and a search only reads. A question about anything else
    ("Who wrote Hamlet?"), or a request to save, is left as it is (`grounding.unasked_note` doubts it)."""
    text = call.arguments.get("text") if call.name == "note" else None
    if not isinstance(text, str) or call.arguments.get("find") or SAVE_NOTE.search(query):
        return call
    asked = QUESTION.match(query) or TELL_ME.match(query)
    if not asked or not MINE.search(FOR_ME.sub(" ", query)) or not RECORDED.search(query):
        return call
    return ToolCall("note", {"find": text})


# What follows a request to save a note, up to its end: "jot this down: <the note>", "make a note that <…>"
NOTE_SAID = re.compile(r"^\s*(?:[:,–—-]\s*|\s)(?:that\s+)?(?P<note>.+?)\s*[.!]?\s*$", re.S)


def with_note_said(query: str, call: ToolCall) -> ToolCall:
    """A note whose words are the start of what the user asked to save, cut short ("jot this down: the
    parking spot is level 3, row F" as "the parking spot is level 3"), given the whole of it. Only a
    note that begins as said is made longer; one in other words is the model's and is left as it is."""
    text = call.arguments.get("text") if call.name == "note" else None
    request = SAVE_NOTE.search(query)
    if not isinstance(text, str) or call.arguments.get("find") or request is None:
        return call
    said = NOTE_SAID.match(query[request.end() :])
    if said is None:
        return call
    whole, kept = WORD.findall(said["note"].lower()), WORD.findall(text.lower())
    if not kept or len(kept) >= len(whole) or whole[: len(kept)] != kept:
        return call
    return ToolCall("note", {**call.arguments, "text": said["note"]})


def with_conversion_said(query: str, call: ToolCall) -> ToolCall:
    """A call that cannot answer a question for a quantity in another unit made the conversion asked: a
    calculation the calculator cannot read ("Recalculate 15 yards in meters." as
    calculate(expression="15 yards in meters")), a date the clock cannot read ("my phone screen is 6.1
    inches, how many cm is that" as clock(to_date="6.1 inches")), or a timer set for a question ("how
    many minutes are there in three and a half hours" as timer(minutes=3.5), `grounding.unasked_setting`)
    becomes convert(value=15, from_unit="yards", to_unit="meters"). The value is the one number the call
    holds that the user said (once or more: "2 litre bottle holds 2 cups"), the units those the user
    wrote after it and asked for (`grounding.said_units`, the reading the checks doubt a conversion by).
    A call that runs and answers what was asked is left as it is."""
    from assistant.tools.numbers import words_to_digits

    if call.name == "convert":
        return call
    said = {abs(float(n)) for n in NUMBER.findall(words_to_digits(query))}
    held = [v for v in call.arguments.values() if v is not None and not isinstance(v, bool)]
    numbers = {float(n) for v in held for n in NUMBER.findall(words_to_digits(str(v))) if abs(float(n)) in said}
    # the reading of the words first: a try of the call (the constraint asks this as the call is written) only
    # for a call that holds one quantity said
    if len(numbers) != 1 or not (unasked_setting(query, call) or cannot_run(call)):
        return call
    (value,) = numbers
    units = said_units(query, value)
    if not units["from_unit"] or not units["to_unit"]:
        return call
    value = int(value) if value.is_integer() else value
    return ToolCall("convert", {"value": value, "from_unit": units["from_unit"], "to_unit": units["to_unit"]})


def cannot_run(call: ToolCall) -> bool:
    """Whether the tool would refuse `call` as written (an argument it does not take, a date it cannot
    read, a timer of no length), as the router finds it (`standing.call_doubt`)."""
    from assistant.tools import ToolError, ready, trial_run, validate

    try:
        validate(call.name, call.arguments)
    except ToolError:
        return True
    outcome = trial_run(call.name, call.arguments)
    return isinstance(outcome if outcome is not None else ready(call.name, call.arguments), ToolError)


def with_operands_said(query: str, call: ToolCall) -> ToolCall:
    """A difference or a quotient of two numbers taken the other way round from the order the user said
    them in ("Take 19 away from 50" as calculate(expression="19 - 50"), "How many 12s go into 144?" as
    "12 / 144") taken in that order ("50 - 19", "144 / 12"): the operation and the numbers are the
    model's, the order the user's, read as `grounding.reversed_operands` doubts it. A computation of more
    than two numbers, or of a difference "between" two, is left as it is."""
    found = operands_swapped(query, call)
    if found is None:
        return call
    return ToolCall("calculate", {**call.arguments, "expression": f"{found[3]} {found[2]} {found[1]}"})


def with_computation_said(query: str, call: ToolCall) -> ToolCall:
    """A calculation cut short of what the user said to compute: the first of their numbers in the order
    said, and not the rest ("Add up 245, 118 and 37." as "245 + 118", "um work out 45 plus 78, then
    times the whole thing by 12" as "45 + 78"), given the rest as said ("245 + 118 + 37", "(45 + 78) *
    12"), read by `grounding.computation_cut`. Any other calculation is left as the model wrote it."""
    whole = computation_cut(query, call)
    return call if whole is None else ToolCall("calculate", {**call.arguments, "expression": whole})


def with_scaling_said(query: str, call: ToolCall) -> ToolCall:
    """A call for a number the user asked doubled, halved or taken a quarter or a third of, that
    computes something else or cannot run ("Double 37 for me." as calculate(expression="37 * 3"),
    "what's half of three hundred forty-six" as "346", "What is a quarter of 200?" as
    clock(to_date="200")), made the calculation said (calculate(expression="37 * 2")), read by
    `grounding.scaled_said`. A calculation that comes to the same is left as the model wrote it."""
    from assistant.tools import trial_run

    said = scaled_said(query)
    if said is None or call.name != "calculate" and not cannot_run(call):
        return call
    if call.name == "calculate":
        ran, wanted = trial_run("calculate", call.arguments), trial_run("calculate", {"expression": said})
        if getattr(ran, "data", None) and ran.data.get("result") == getattr(wanted, "data", {}).get("result"):
            return call
    return ToolCall("calculate", {"expression": said})


def with_supposed_said(query: str, call: ToolCall) -> ToolCall:
    """A clock call at the weekday the user supposes a day is, or counts from, that counts other days on
    from it than they asked about ("If today is Saturday, what day is it tomorrow?" as
    clock(date="Saturday", days=2), or as the Saturday itself; "Say it's Thursday today. What day will
    it be 4 days from now?" as the days until Thursday), or that the clock cannot read ("what day is it
    five days after a thursday?" as clock(date="5 days after a Thursday")) or reads as the calendar's
    day ("if yesterday was friday, what day is tomorrow?" as clock(date="yesterday", days=2)), counting those ("date":
    "Saturday", "days": 1), read as `grounding.uncounted_supposed` doubts it. A call that runs about any
    other day is left as it is."""
    if call.name != "clock" or (counted := weekday_counted(query)) is None:
        return call
    day, days = counted
    named = {str(call.arguments.get(key) or "").strip().lower() for key in ("date", "to_date")}
    if call.arguments.get("days") == days and day.lower() in named and not call.arguments.get("to_date"):
        return call
    # "yesterday" in a call for "if yesterday was friday" is the calendar's yesterday, not the one supposed
    if day.lower() not in named and not named & set(SUPPOSED_FROM_TODAY) and not cannot_run(call):
        return call
    kept = {key: value for key, value in call.arguments.items() if key not in ("date", "to_date", "days", "months")}
    if str(kept.get("place") or "").strip().lower() == day.lower():  # the weekday written as a place too
        del kept["place"]
    return ToolCall("clock", {**kept, "date": day, "days": days})


def with_next_day_said(query: str, call: ToolCall) -> ToolCall:
    """A clock call at the weekday whose next or previous day the user asked ("What day comes after
    Sunday?" as clock(date="Sunday", days=2), the count of "the day after tomorrow") that counts other
    days than the one they said, made that one day on or back (clock(date="Sunday", days=1)), read by
    `grounding.next_to_weekday`. A call at another day, one that counts the other way, months or to a
    date is left as it is (the checks doubt it)."""
    if not _counts_unsaid_days(query, call) or (asked := next_to_weekday(query)) is None:
        return call
    day, days = asked
    counted = call.arguments["days"]
    # the same way as said, by other days: a count the other way ("before" as days=1) is doubted, never turned
    if str(call.arguments.get("date") or "").strip().lower() != day.lower() or counted == days or counted * days <= 0:
        return call
    return ToolCall("clock", {**call.arguments, "days": days})


def with_next_month_said(query: str, call: ToolCall) -> ToolCall:
    """A clock call for a question for the month after or before one the user named ("Which month comes
    after June?" as clock(place="June", date="June"), clock(to_date="april", days=3)) that holds no
    other month, made the call for the month named (clock(date="June")), which the clock answers with
    its place in the year and the months either side; read by `grounding.next_to_month`. A call that
    names another month, or none, is left as it is."""
    from assistant.tools.months import NAMES, SPELLINGS

    if call.name != "clock" or (month := next_to_month(query)) is None:
        return call
    values = [str(value).lower() for value in call.arguments.values() if isinstance(value, str)]
    named = {SPELLINGS[word] for value in values for word in WORD.findall(value) if word in SPELLINGS}
    if named != {month} or set(call.arguments) == {"date"}:  # another month, or that month already
        return call
    return ToolCall("clock", {"date": NAMES[month - 1]})


def with_month_said(query: str, call: ToolCall) -> ToolCall:
    """A clock call for a month asked for by its place in the year that names no month by itself, or
    another one ("Name the third month of the year." as clock(date="third"), "counting from january,
    which month is number five" as clock(date="january", days=5)), made the call for that month by its
    name (clock(date="May")), which the clock answers with the month's place, length and neighbours.
    The place is read by `grounding.month_by_place`; a call for that month is left as it is."""
    import datetime as dt

    from assistant.tools import months

    if call.name != "clock" or (place := month_by_place(query)) is None:
        return call
    date, counted = call.arguments.get("date"), any(call.arguments.get(key) for key in ("to_date", "days", "months"))
    named = months.read(date, dt.date.today()) if isinstance(date, str) and not counted else None
    if named is not None and named[0] == place:
        return call
    return ToolCall("clock", {"date": months.NAMES[place - 1]})


def _counts_unsaid_days(query: str, call: ToolCall) -> bool:
    """Whether `call` is a clock call that counts days on (and no months, to no date) where the user
    counted none themselves: what `with_next_day_said`, `with_count_said`, `with_length_said` and
    `with_date_said` mend."""
    days, arguments = call.arguments.get("days"), call.arguments
    if call.name != "clock" or isinstance(days, bool) or not isinstance(days, int):
        return False
    return not (arguments.get("to_date") or arguments.get("months") or DAYS_COUNTED.search(query))


def with_date_said(query: str, call: ToolCall) -> ToolCall:
    """A clock call that splits a date the user said into its month and a count of days ("which day of
    the week is the 16th of march 2027" as clock(date="March 2027", days=16), which counts 16 days on
    from the 1st), made the call for that date (clock(date="16 March 2027")). Only where the user named
    that day of that month (`grounding.day_of_month_said`) and counted no days; else as written."""
    import datetime as dt

    from assistant.tools import months

    date, days = call.arguments.get("date"), call.arguments.get("days")
    if not _counts_unsaid_days(query, call) or not isinstance(date, str):
        return call
    named = months.read(date, dt.date.today())
    if named is None:
        return call
    month, year = named
    if days not in day_of_month_said(query, month):
        return call
    kept = {key: value for key, value in call.arguments.items() if key not in ("date", "days")}
    # the year as the month had it, or as the user said it ("this year": the clock reads it so)
    said_year = YEAR_SAID.search(query)
    year_words = f" {year}" if year else f" {said_year[0].lower()}" if said_year else ""
    return ToolCall("clock", {**kept, "date": f"{days} {months.NAMES[month - 1]}{year_words}"})


def with_count_said(query: str, call: ToolCall) -> ToolCall:
    """A clock call for a question for the days left until a date ("how many days till april 22nd
    2027") that counts days on from that date by one of its own numbers (clock(date="april 22nd 2027",
    days=22), clock(date="november 5th", days=2027): the day of the month or the year, taken for a
    count), made the count of days until it (clock(to_date="22 April 2027")). Only where the user named
    one day of one month, and that month is the call's, counted no days themselves, and asked the days
    until it, not from, since or between dates; else as written."""
    from assistant.tools.months import NAMES, SPELLINGS

    date, days = call.arguments.get("date"), call.arguments.get("days")
    if not _counts_unsaid_days(query, call) or not isinstance(date, str):
        return call
    if not (COUNT_ASKED.search(query) and UNTIL.search(query)) or SINCE.search(query):
        return call
    named = {SPELLINGS[word] for word in WORD.findall(query.lower()) if word in SPELLINGS}
    in_call = {SPELLINGS[word] for word in WORD.findall(date.lower()) if word in SPELLINGS}
    if len(named) != 1 or in_call != named:
        return call
    month = named.pop()
    day = day_of_month_said(query, month)
    years = {int(year) for year in YEAR_NUMBER.findall(query)}
    if len(day) != 1 or len(years) > 1 or days not in day | years:
        return call
    kept = {key: value for key, value in call.arguments.items() if key not in ("date", "days")}
    year_words = f" {years.pop()}" if years else ""
    return ToolCall("clock", {**kept, "to_date": f"{day.pop()} {NAMES[month - 1]}{year_words}"})


def with_length_said(query: str, call: ToolCall) -> ToolCall:
    """A clock call for a question for the days a month has ("How many days does February have in a
    leap year?") that counts days on from that month (clock(date="February", days=2): February's own
    number taken for a count), made the call for the month (clock(date="February")), which says its
    length. Only where the user counted no days and asked none until, since or from a date; else as
    written."""
    from assistant.tools.grounding import COUNT_TO, _a_month

    if not _counts_unsaid_days(query, call) or not _a_month(call.arguments.get("date")):
        return call
    if not COUNT_ASKED.search(query) or COUNT_TO.search(query):
        return call
    return ToolCall("clock", {key: value for key, value in call.arguments.items() if key != "days"})


# the days until a date, not those since, from or between dates (`with_count_said`)
UNTIL = re.compile(r"\b(?:until|till|til|left|to go)\b", re.I)
SINCE = re.compile(r"\b(?:since|from|between|before|after|ago)\b", re.I)
YEAR_NUMBER = re.compile(r"\b((?:19|20)\d\d)\b")
YEAR_SAID = re.compile(r"\b(?:this|next|last)\s+year\b", re.I)
# A count of days the user asked for: "16 days after March 1" counts them, "the 16th of March" does not.
DAYS_COUNTED = re.compile(r"\b(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten)\s+days?\b", re.I)


def with_time_said(query: str, call: ToolCall) -> ToolCall:
    """A clock call for the time now, here or in a place the user named, that tells the time somewhere
    else or asks about a date the clock cannot read ("what time is it right now?" as
    clock(to_date="right now"), "Is it morning or evening in Seoul right now?" as clock(date="Seoul"),
    "what's the time in buenos aires" as clock(place="Barcelona")), made the call for the time there
    (clock(), clock(place="Seoul")). The place is the one the user named that the clock knows
    (`grounding.place_asked`); a call that counts days or months, or reads a date, is left as it is."""
    from assistant.tools import ToolError
    from assistant.tools.clock import find_zone

    if call.name != "clock" or call.arguments.get("days") or call.arguments.get("months"):
        return call
    asked = place_asked(query)
    if asked is None and not time_now_asked(query):  # neither a place nor the time here
        return call
    dates = [str(call.arguments.get(key) or "").strip() for key in ("date", "to_date")]
    named = asked is not None and any(date.lower() == asked[0].lower() for date in dates)
    if any(dates) and not named and not cannot_run(call):
        return call  # a date it reads: the question is the calendar's, not the time's
    place = str(call.arguments.get("place") or "").strip()
    try:
        there = find_zone(place) if place else None
    except ToolError:
        there = ""
    if not any(dates) and there == (asked[1] if asked else None):
        return call
    return ToolCall("clock", {"place": asked[0]} if asked else {})


def with_task_said(query: str, call: ToolCall) -> ToolCall:
    """A timer or alarm set, unnamed, for a request to be reminded of something ("Tell me to water the
    plants in 4 hours" as timer(hours=4)), made the reminder that says it when it rings: the same
    length or time, with the user's own words for what it is for (reminder(text="water the plants",
    hours=4)). A timer rings with no words, so it would leave out the one thing asked; the words are
    read by the pattern that doubts such a call (`unsaid_task`). A call with a name is left as it is."""
    from assistant.tools.numbers import words_to_digits

    if not unnamed_setting(call):
        return call
    found = REMIND_TO.search(words_to_digits(query))
    task = found[1].strip() if found else ""
    if not WORD.search(task):
        return call
    keys = ("time",) if call.name == "alarm" else DURATIONS
    return ToolCall("reminder", {"text": task, **{key: call.arguments[key] for key in keys if key in call.arguments}})


# What may follow what to be reminded of, and is when rather than what: "in 45 minutes", "at 5", "tonight".
WHEN_WORDS = frozenset({"at", "in", "by", "after", "tomorrow", "tonight", "later", "this"})
WHEN = re.compile(
    r"\d|\b(?:tomorrow|tonight|later|morning|afternoon|evening|noon|midnight|half|quarter|hours?|minutes?)\b"
)


def with_task_cut(query: str, call: ToolCall) -> ToolCall:
    """A reminder whose words run on past what to be reminded of into when ("remind me to take the bins
    out in 45 minutes" as text="take the bins out in 45 minutes"), cut to what it is for: it would
    ring saying "in 45 minutes" 45 minutes later. Read by the pattern that checks a reminder's text
    (`grounding.REMIND_TO`); a text in other words is left as the model wrote it."""
    from assistant.tools.numbers import words_to_digits

    text = call.arguments.get("text") if call.name == "reminder" else None
    found = REMIND_TO.search(words_to_digits(query)) if isinstance(text, str) else None
    if found is None:
        return call
    task, words = found[1].strip(), WORD.findall(text.lower())
    asked = WORD.findall(task.lower())
    if not asked or len(words) <= len(asked) or words[: len(asked)] != asked or words[len(asked)] not in WHEN_WORDS:
        return call
    if not WHEN.search(" ".join(words[len(asked) :])):  # "put it in a box": the rest is still what for
        return call
    return ToolCall("reminder", {**call.arguments, "text": task})


def with_name_said(query: str, call: ToolCall) -> ToolCall:
    """A timer or alarm set with no name, or one that names nothing ("minutes", "timer"), given the one
    the user gave outright ("40 minute countdown for the laundry", "alarm at 5:40 pm called gym"). A
    small model copies the length and drops the name; the name is the user's own word, read by the
    same patterns that doubt a call without it (`unsaid_label`). Two names given, or none, or a call
    that already has one, is left as it is."""
    if not unnamed_setting(call):
        return call
    named = {word.lower(): word for word in names_given(query, call.name)}
    if len(named) != 1:
        return call
    return ToolCall(call.name, {**call.arguments, "label": next(iter(named.values()))})


def with_half_said(query: str, call: ToolCall) -> ToolCall:
    """The call with a clock time that could be either half of the day ("6:10") read in the half the
    user said ("6:10 tomorrow morning", "at 5:45 in the morning"): the call as the tool would run it for
    this query. A model often copies the digits and drops the half; the tool would then take the next
    6:10, which may be the evening's. One that says the other half outright ("an alarm at nine in the
    evening" as "9 am", as `grounding.other_half_of_day` doubts it) is read in the half said as well.
    Said both ways, or not at all, the call is left as it is."""
    from assistant.tools import ToolError
    from assistant.tools.timers import parse_clock

    time = call.arguments.get("time") if call.name in ("alarm", "reminder") else None
    if not isinstance(time, str) or not time.strip():
        return call
    if other_half_of_day(query, call):  # its digits, without the half the model gave them
        time = MERIDIEM.sub("", time)
    try:
        ambiguous = parse_clock(time)[2]
    except ToolError:
        return call
    half = half_said(query) if ambiguous else None
    if half is None:
        return call
    morning, words = half
    # "6 am" adds "am"; a part of the day adds its own word, which the tool reads ("1 tonight" is 1 am)
    said = ("am" if morning else "pm") if re.search(r"\d", words) else words.lower()
    return ToolCall(call.name, {**call.arguments, "time": f"{time.strip()} {said}"})


MERIDIEM = re.compile(r"(?<=[\d\s])[ap]\.?\s?m\b\.?", re.I)  # "9 am", "9am", "9 p.m."
