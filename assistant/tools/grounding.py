"""Whether a tool call's numbers are the ones the user said: a check of a call against its query.

A small student is often sure of a call whose numbers it made up or dropped: "How long until
April 9?" written as clock(to_date="April 9, 2022"), "Deduct 12 from 127" as calculate("12 + 12"),
"Add up 245, 118 and 37" as calculate("245 + 118"). The call validates and runs, and its mean
log-probability is as high as a right one's, so the cascade line cannot see it. The numbers can:
a call that carries a number the query does not hold, or leaves out one it does, is not what the
user asked for, and the cascade sends it to the teacher instead (`CascadeStep.sure`).

Number words count as the user said them ("two and a half minutes" is 2.5, "an hour" is 1), and a
few words imply one a call may write out ("half of 90" is 90 / 2, "15 squared" is 15^2). A 0 or a 1
may be left unsaid either way ("the day after Sunday" is days=1, "7 o'clock" is 7:00, "quick one"
holds no number to compute with). Some other forms are known: a length of time in another unit
(150 seconds for "two and a half minutes", 15 minutes for "a quarter of an hour"), a holiday's date
("Christmas" is December 25), spoken hundreds ("three hundred and twelve"). A clock time's own
numbers are never counted as made up ("half past eight" is 20:30), but the numbers the user said
must be found in it. What the check costs is a right call that writes a number in a form it does
not know ("a while" as 10 minutes, "Christmas" as 2026-12-25): it goes to the teacher, and nothing
wrong is kept.

Numbers are not all a call must keep. A number said as a time of day is no length of time ("feed
the cat at 5 am" is no 5-minute timer: `unsaid_numbers` names it); a timer the user named ("for the
pasta", "the eggs timer") keeps its name (`unsaid_label`); and a weekday the user named is the one
the clock counts from ("What day comes after Tuesday?" is no `clock(days=1)`, which counts from
today: `unsaid_weekday`). And a message the user asked to send to someone is no note ("Text Marta
that I'm running late" saved as a note would never reach Marta: `unsent_message`).

Nor are numbers all a call must do. A computation does the operation the user named ("Split 935 by
8" is no 935 - 8, "30% of 154" no 154 / 30: `unsaid_operation`); the day before or after a named one
is counted, not the named day given ("What day comes before Monday?" is no clock(date="Monday"):
`unsaid_offset`), the way the user counted ("3 days ago" is no days=3: `way_counted`) and in the
span they counted ("5 months after September" is no days=5: `other_span`); and a timer is named for
what it is for, not after its own length ("minutes, 6, 6": `unnamed_label`), nor with words the user
never said ("timer1": `invented_label`); one length the user said is not given in two units ("Can
you time 3 hours?" is no timer of 3 hours, 3 minutes and 3 seconds: `doubled_length`); and a request
to be reminded is no note, which never rings ("Remind me to book a table at 8 pm":
`unrung_reminder`), nor is a question ("Did I save anything about the gate?") or anything that asks
nothing to be kept ("Double 37 for me."): `unasked_note`. A weekday asked for is no count of days
("On what day does September 27 fall?" is no clock(to_date="September 27"), which says how many days
away it is: `unasked_count`), and a count of days asked for is no weekday ("How many days until May
3?" is no clock(date="May 3"): `uncounted_days`).

Nor the order, names and words the user gave: a difference or quotient takes its numbers in the order
said ("Subtract 22 from 652" is no 22 - 652: `reversed_operands`); a clock call names no month or
weekday the user did not ("What time is it?" is no clock(to_date="January 1st"): `unsaid_date`); a
reminder keeps what it is for ("Remind me at 9:30 pm to check the oven" is no reminder of "the oven":
`unsaid_task`); and a length said with its unit is the length waited ("a 25 second timer" is no
timer of 25 minutes: `other_length`).

Nor what the user never said at all: a wait never said as a length is none ("is United flight 902 on
time?" is no 902-minute timer: `unsaid_length`), a question for a number sets nothing ("Three hours
is how many minutes?": `unasked_setting`), a value said below zero stays below it ("minus ten
celsius" converted from 10: `lost_sign`), one number "by" another is a product or a quotient ("48 by
12" is no 48 - 12: `unsaid_operation`), and the days a month has are no count of the days to it
("how many days are in april" is no clock(to_date="April"): `unasked_count`). What the code fills in
where a call left out what the user said, or took two numbers the other way round, is `as_said`'s
(assistant/tools/as_said.py).
"""

from __future__ import annotations

import calendar
import functools
import math
import re

from assistant.tools.calls import ToolCall

NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
# A number said below zero ("it's minus ten celsius out", "-4 °F"), not a subtraction ("405 minus 61").
SIGNED = re.compile(r"(?<![\d.])(?<![\d.] )(?:\b(?:minus|negative)\s+|-)(\d+(?:\.\d+)?)", re.I)
UNSAID = {0.0, 1.0}  # numbers a call may hold, or leave out, that a query often leaves to be understood
# Words that say a number a call may write out: "half of 90" is 90 / 2, "15 squared" is 15^2.
IMPLIED = {
    "half": (2.0, 0.5),
    "halve": (2.0, 0.5),
    "quarter": (4.0, 0.25),
    "third": (3.0,),
    "double": (2.0,),
    "twice": (2.0,),
    "triple": (3.0,),
    "squared": (2.0,),
    "root": (2.0, 0.5),
    "square": (2.0,),
    "cubed": (3.0,),
    "cube": (3.0,),
    "percent": (100.0,),
    "dozen": (12.0,),
}
# A month said by name is its number in a date written 2027-08-19 ("August 19, 2027").
IMPLIED |= {name.lower(): (float(number),) for number, name in enumerate(calendar.month_name) if name}
IMPLIED |= {name.lower(): (float(number),) for number, name in enumerate(calendar.month_abbr) if name}
# Phrases that say a count of days: "the day after tomorrow" is two days on.
IMPLIED_DAYS = re.compile(r"\bday (?:after tomorrow|before yesterday)\b", re.I)
DURATIONS = ("hours", "minutes", "seconds")  # a length of time may be written in another unit than said
UNIT_FACTORS = (1.0, 60.0, 1 / 60, 3600.0, 1 / 3600)
FREE_FORM = ("time",)  # clock times come in too many forms ("half past eight", "20:30") to compare numbers
# A time of day said with its marker: its number is no length of time ("at 5 am" is not 5 minutes).
# "7:30" alone is left out: a timer of 7:30 is seven and a half minutes.
TIME_OF_DAY = re.compile(r"\b(\d{1,2})(?::\d{2})?\s*(?:[ap]\.?m\b\.?|o'?clock\b)", re.I)
# A time of day said by its name: noon and midday are 12:00, midnight 00:00 ("afternoon" is none;
# "ten past midnight" or "before noon" is some other time).
NAMED_TIME = re.compile(r"(?<!past )(?<!after )(?<!to )(?<!before )\b(noon|midday|midnight)\b")
# A clock time said plainly, once said in digits: "8:30", "6 am", "7 o'clock" (not "at 7", which may be a length).
TIME_SAID = re.compile(r"(?<![\d:.])(?P<h>\d{1,2})(?::(?P<m>\d{2}))?(?P<half>\s*(?:[ap]\.?m\b|o'?clock\b))?")
# What a timer is for: "for the pasta", "the eggs timer". A bare "Egg timer, 6 minutes" may name the
# kitchen device rather than the timer, so it is not read as a name.
LABEL_FOR = re.compile(r"\bfor (?:the|my|our) ([a-z]+)\b", re.I)
# "the eggs timer", "start a pasta timer", and a name that leads the request: "tea timer, 4 minutes" (a
# verb that leads it names nothing: "Set timer for 9 minutes")
LEADING_VERBS = (
    "set|start|put|make|begin|run|stop|cancel|pause|resume|reset|restart|add|create|show|check|clear|delete|remove|end"
)
LABEL_BEFORE = re.compile(
    rf"(?:^\s*(?!(?:{LEADING_VERBS})\b)|\b(?:the|my|our|a|an) )([a-z]+) (?:timer|countdown)\b", re.I
)
LABEL_TIMED = re.compile(r"\btime (?:the|my|our) ([a-z]+)\b", re.I)  # "can you time the pizza?"
# A name given outright, to a timer or an alarm: "call it gym", "name it tea", "an alarm called work".
LABEL_GIVEN = re.compile(r"\b(?:call|name|label) it ([a-z]+)\b|\b(?:called|named|labell?ed) ([a-z]+)\b", re.I)
# Words in those places that name no timer: articles, lengths, "the next 10 minutes", "a new timer", the
# kitchen devices ("an egg timer"), and what a spoken request begins with ("um timer, one hour", "ok timer").
NOT_LABELS = frozenset(
    "a an the my our this that your one another new quick same next first last rest whole any every what which how "
    "second seconds minute minutes hour hours day week night kitchen egg timer countdown "
    "um uh uhm er erm hmm ah oh ok okay hey hi so yes yeah please".split()
)
# A message to someone: "Text Will that…", "Message Yuki: …", "Send Marta a message saying …" (a name
# is capitalized, so "Text me at 5" and a lowercase "send this" are not read as one).
MESSAGE = re.compile(r"^\s*(?i:please\s+)?(?i:text|message|send)\s+([A-Z][a-z]+)\b")
# The operations a user names, and the signs (or the words the calculator reads) that write them.
# "How many times" asks no product, and "less" is left out ("20 less than 50", "less than 3 hours")
# as too loose a word.
OPERATIONS = (
    ("add", re.compile(r"\b(?:add|added|adding|plus|sum)\b", re.I), re.compile(r"\+|\bplus\b", re.I)),
    (
        "subtract",
        re.compile(r"\b(?:subtract\w*|minus|deduct\w*|take\b[^.?!]{0,30}?\baway)\b", re.I),
        re.compile(r"[-−]|\bminus\b", re.I),
    ),
    (
        "multiply",
        re.compile(r"\b(?:multipl\w*|(?<!how many )times|product)\b", re.I),
        re.compile(r"[*×·]|\bx\b|\btimes\b|\bmultiplied\b", re.I),
    ),
    ("divide", re.compile(r"\b(?:divide\w*|split\w*)\b", re.I), re.compile(r"[/÷]|\bdivided\b|\bover\b", re.I)),
    ("halve", re.compile(r"\bhal(?:f|ve)\b", re.I), re.compile(r"[/÷]\s*2\b|0?\.5\b|\bhal(?:f|ve)", re.I)),
    ("take the percentage", re.compile(r"%|\bper ?cent\b", re.I), re.compile(r"%|percent|/\s*100\b|(?<!\d)0?\.\d")),
    ("take the root", re.compile(r"\broot\b", re.I), re.compile(r"sqrt|cbrt|√|\^\s*\(?\s*(?:1\s*/\s*\d|0?\.\d)")),
)
# One number "by" another ("48 by 12"), said with no other operation: a product or a quotient, never a
# sum or a difference ("increase 50 by 10" is a sum).
BY = re.compile(r"\d+(?:\.\d+)?\s+by\s+\d+(?:\.\d+)?", re.I)
BY_OTHER = re.compile(r"\b(?:increase\w*|decrease\w*|reduc\w*|rais\w*|lower\w*|grow\w*|more|less|up|down)\b", re.I)
BY_SIGNS = re.compile(r"[*×·/÷]|\bx\b|\btimes\b|\bmultiplied\b|\bdivided\b|\bover\b", re.I)
# Words between two numbers that put the second first: "Subtract 22 from 652" is 652 - 22, "How many
# 12s go into 144" is 144 / 12. A difference "between" two numbers may be taken either way.
REVERSED = re.compile(r"\bfrom\b|\bless than\b|\b(?:go|goes|fit|fits) into\b|\bin\b", re.I)
TWO_OPERANDS = re.compile(r"\s*\(?\s*(-?\d+(?:\.\d+)?)\s*([-−/÷])\s*(-?\d+(?:\.\d+)?)\s*\)?\s*")
# A day counted on or back from another: "What day comes before Monday?", "3 days after Saturday".
BEFORE_AFTER = re.compile(r"\b(before|after)\b", re.I)
# The words that count days (or weeks) and months (or years): a call counts in the one said.
SPANS = {
    "days": re.compile(r"\b(?:days?|weeks?|fortnights?)\b", re.I),
    "months": re.compile(r"\b(?:months?|years?)\b", re.I),
}
# The way a count of days goes, as the user said it: back ("3 days ago", "the day before", "100 days
# earlier") or on ("in 9 days", "10 days from now", "after"). Read after words_to_digits.
COUNTED_BACK = re.compile(r"\b(?:before|ago|earlier|back|prior to|yesterday)\b", re.I)
COUNTED_ON = re.compile(
    r"\b(?:after|from now|from today|later|hence|ahead|tomorrow|in (?:\d+|a|an) (?:days?|weeks?|months?|years?))\b",
    re.I,
)
# Words that say a length of time: a timer named with them is named after its own length.
LENGTH_WORDS = re.compile(r"\b(?:sec|second|min|minute|hour|hr)s?\b", re.I)
# A length said at all: in words of time ("an hour", "90 secs"), in short ("30m", "1h30"), or a fraction
# of one ("half an hour").
LENGTH_SAID = re.compile(r"\b(?:sec|second|min|minute|hour|hr)s?\b|\d\s*[hms]\b|\b(?:half|quarter)\b", re.I)
# A request to be reminded: "Remind me to…", "Set a reminder…".
REMIND = re.compile(r"\bremind(?:er|ers)?\b|\b(?:ping|nudge|prompt|tell) me (?:to|about|in|at)\b", re.I)
# A question, which no saved note answers: "Did I save anything about the gate?", "Any news today?".
QUESTION = re.compile(
    r"^\s*(?:(?:in|on|at|from|for|to|by|with|of) )?"  # "In which country would I find Kyoto?"
    r"(?:did|do|does|what|what's|which|where|when|who|whose|is|are|was|were|any|have|has|how)\b[^?]*\?\s*$",
    re.I,
)
# A question for a number, and the words that name something to set: "how many minutes are left on my
# timer?" asks about one, "Three hours is how many minutes?" sets nothing.
HOW_MANY = re.compile(r"\bhow (?:many|much)\b", re.I)
SETTING_WORDS = re.compile(r"\b(?:timers?|alarms?|remind\w*|wake|countdown|count down|ring\w*|alert)\b", re.I)
# A request to save a note ("Make a note: …", "jot down that …"), and words that ask about what is the user's
# own ("my", "I saved", "did I note"): a search of the notes answers only the second.
SAVE_NOTE = re.compile(
    r"^\s*(?:please,?\s+)?(?:(?:make|take|add) a note|note (?:that|down)|(?:write|jot) (?:that |this |it )?down|"
    r"remember (?:that|this)|save (?:that|this))\b",
    re.I,
)
# Any request to keep something says so: "make a note", "jot this down", "remember that", "keep in mind
# for me", "store this", "save a note", "for the record". A note saved for words without one of these
# answered a question or a request that only sounded like no question ("greek god of the sea, who's
# that again?", "hey is United flight 902 on time?").
KEEP_ASKED = re.compile(
    r"\b(?:notes?|noted|jot|jotted|write (?:(?:it|this|that) )?down|written down|remember|keep|save|store|"
    r"record|memo|mind)\b",
    re.I,
)
OWN = re.compile(r"\b(?:my|mine|i|i've|i'd|me|our|notes?|noted|saved?|wrote|written|jotted|remember)\b", re.I)
FOR_ME = re.compile(r"\b(?:for|to) me\b", re.I)  # a favour asked ("double 78 for me"), not something of mine
# A request to be told something, which no saved note answers either: "Tell me the chemical symbol for
# sodium.", "Give me the capital of Peru."
TELL_ME = re.compile(r"^\s*(?:please,?\s+)?(?:tell|give|show) me\b", re.I)
# What to be reminded of: "remind me at 9:30 pm to check the oven", "don't let me forget to reply to Anna
# in 30 minutes", "ping me about the laundry" ("tell me about" asks to be told), read after number words
# are made digits, up to the time it is for ("at 5", "at half 10", "in an hour", "this evening").
REMIND_TO = re.compile(
    r"(?:\b(?:remind|reminder|forget|tell|prompt|ping|nudge)\b(?: me)?(?: [^.?!,;]*?)?? to "
    r"|\b(?:remind|reminder|ping|nudge)\b(?: me)? about(?: the| my| a| an| our)? )"
    r"((?:(?!\s(?:at|in|by|after) (?:\d|an? (?:hour|minute|second|few|couple|half|quarter)\b|half\b|quarter\b"
    r"|noon\b|midnight\b)"
    r"|\s(?:tomorrow|tonight|later|this (?:morning|afternoon|evening))\b)[^.?!,;:])+)",
    re.I,
)
# A question for a count of days: "How many days until May 3?", "How long until Christmas?".
COUNT_ASKED = re.compile(
    r"\bhow (?:many days|many weeks|long)\b|\bdays? (?:until|till|left|to go|since|between)\b", re.I
)
# a count of days to or from a date, not the days a month has ("How many days until April?")
COUNT_TO = re.compile(r"\b(?:until|till|til|left|to go|since|between|before|after|from|ago)\b", re.I)
# A length of time said with its unit, after number words are made digits: "25 second", "1.5 hours".
SAID_LENGTH = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*-?\s*(hours?|hrs?|minutes?|mins?|seconds?|secs?)\b", re.I)
SECONDS_IN = {"h": 3600.0, "m": 60.0, "s": 1.0}
FRACTIONS = re.compile(r"\b(?:half|quarter|third)\b", re.I)  # "a quarter of an hour": a length said in words
# A question for the day of the week: "What day of the week is…", "On what day does … fall?".
WEEKDAY_ASKED = re.compile(r"\b(?:day of the week|weekday|(?:what|which) day (?:does|did|will|is|was)\b)", re.I)
WORD = re.compile(r"[^\W_]+")  # a word of a name: letters and digits
# the half of the day said: the morning ("6 am", "in the morning"), or the rest of it ("9 pm", "tonight");
# "am" only after a number, where it cannot be the verb
MORNING_SAID = re.compile(r"\bmorning\b|\d\s*a\.?m\b", re.I)
LATER_SAID = re.compile(r"\b(?:afternoon|evening|tonight)\b|\d\s*p\.?m\b", re.I)
# a place named after "in" (or "over in", "out in"): one to three capitalized words, "New York", "Sydney"
PLACE_SAID = re.compile(r"\b(?i:in) ((?:[A-Z][\w.'-]*)(?: [A-Z][\w.'-]*){0,2})")


def unsaid_numbers(query: str, call: ToolCall) -> str | None:
    """Why `call` does not hold the numbers of `query` (a sentence for the router's reason), or None."""
    as_time, extra, missing = number_gaps(query, call)
    if as_time:
        return f"its call waits {_show(as_time)} as a length of time, which you said as a time of day"
    if extra:
        return f"its call holds {_show(extra)}, which you did not say"
    if missing:
        return f"its call leaves out {_show(missing)}"
    return None


def number_gaps(query: str, call: ToolCall) -> tuple[list[float], list[float], list[float]]:
    """How the numbers of `call` differ from those of `query`: lengths of time it waits that were said
    as a time of day, numbers it holds that were not said, and numbers said that it leaves out."""
    from assistant.tools.clock import HOLIDAYS
    from assistant.tools.numbers import words_to_digits
    from assistant.tools.timers import spoken_clock

    digits = words_to_digits(query)
    said = _numbers(spoken_clock(digits))  # "ten to five" says 4:50, not a 10
    lowered = query.lower()
    implied = {n for word in re.findall(r"[a-z]+", lowered) for n in IMPLIED.get(word, ())}
    implied |= {float(n) for name, date in HOLIDAYS.items() if re.search(rf"\b{name}\b", lowered) for n in date}
    implied |= {2.0} if IMPLIED_DAYS.search(query) else set()
    # "if yesterday was Friday, what day is tomorrow?" counts 2 days on from the Friday
    implied |= {float(abs(counted[1]))} if (counted := weekday_counted(query)) else set()
    known = _known(said, implied)
    used, lengths, times = [], [], []
    for key, value in call.arguments.items():
        text = "" if value is None or isinstance(value, bool) else str(value)
        # a call may copy the user's words: "seven thirty am" holds 7 and 30, "seventy-two minus nineteen" 72 and 19
        numbers = _numbers(spoken_clock(text) if key in FREE_FORM else words_to_digits(text))
        (times if key in FREE_FORM else lengths if key in DURATIONS else used).extend(numbers)
    extra = [n for n in used if n not in known and n not in UNSAID]
    extra += [n for n in lengths if not _same_length(n, known) and n not in UNSAID]
    # a length of time is found among the numbers said as lengths: "at 5 am" says no 5 minutes
    told_time = {float(m[1]) for m in TIME_OF_DAY.finditer(digits)}
    # and a time said in words: "be up by quarter to seven" is 6:45, no 7 minutes ("a timer for 7:30", in
    # digits, may be a length)
    clocked, written = spoken_clock(digits), set(re.findall(r"\d{1,2}:\d{2}", digits))
    spoken = [m for m in TIME_SAID.finditer(clocked) if m["m"] and f"{m['h']}:{m['m']}" not in written]
    told_time |= {float(n) for m in spoken for n in (m["h"], m["m"]) if n} | {float(m["h"]) + 1 for m in spoken}
    for m in reversed(spoken):
        clocked = clocked[: m.start()] + " " + clocked[m.end() :]
    said_as_lengths = _known(_numbers(TIME_OF_DAY.sub(" ", clocked)), implied)
    as_time = [n for n in lengths if n in told_time and not _same_length(n, said_as_lengths)]
    # a clock time's own numbers are never "made up", but the ones the user said are found in it, on
    # either half of the day ("2 pm" in "14:00"), or the hour before it
    clock = set(times) | {t - 12 for t in times if 12 < t < 24} | {t + 12 for t in times if t < 12}
    clock |= {t + 1 for t in clock}  # "quarter to seven" is 6:45
    missing = [
        n
        for n in said
        if n not in used and n not in clock and n not in UNSAID and not any(_same_length(u, {n}) for u in lengths)
    ]
    return as_time, extra, missing


# A number taken a simple part or multiple of, said in words: "double 37", "half of 346", "a quarter of 200".
SCALED = re.compile(
    r"\b(?P<word>double|twice|triple|treble|half|halve|quarter|third)\s+(?:of\s+)?(?P<n>-?\d+(?:\.\d+)?)\b"
    r"|\b(?P<n2>-?\d+(?:\.\d+)?)\s+(?P<word2>doubled|tripled|halved)\b",
    re.I,
)
SCALINGS = {
    "double": "* 2",
    "doubled": "* 2",
    "twice": "* 2",
    "triple": "* 3",
    "tripled": "* 3",
    "treble": "* 3",
    "half": "/ 2",
    "halve": "/ 2",
    "halved": "/ 2",
    "quarter": "/ 4",
    "third": "/ 3",
}


def scaled_said(query: str) -> str | None:
    """The computation of the one number the user said, taken the part or multiple of it they said in a
    word ("Double 37 for me." is "37 * 2", "what's half of three hundred forty-six" "346 / 2"), or None:
    a question with more than one number, or none taken so."""
    from assistant.tools.numbers import words_to_digits

    digits = words_to_digits(query or "")
    found = list(SCALED.finditer(digits))
    if len(found) != 1 or len(_numbers(digits)) != 1:
        return None
    number, word = found[0]["n"] or found[0]["n2"], (found[0]["word"] or found[0]["word2"]).lower()
    return f"{number} {SCALINGS[word]}"


def day_of_month_said(query: str, month: int) -> set[int]:
    """The days of `month` (1 to 12) the user names in `query` ("the 16th of march 2027", "March 16"
    are 16 for March)."""
    from assistant.tools.months import SPELLINGS
    from assistant.tools.numbers import words_to_digits

    names = "|".join(sorted((name for name, number in SPELLINGS.items() if number == month), key=len, reverse=True))
    said = words_to_digits(query or "")
    found = re.findall(
        rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{names})\b|\b(?:{names})\.?\s+(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\b",
        said,
        re.I,
    )
    return {int(day) for pair in found for day in pair if day and 1 <= int(day) <= 31}


def below_zero(query: str) -> bool:
    """Whether the one number the user said is said below zero ("it's minus ten celsius out, what's that
    in fahrenheit?"): a conversion's value then begins with a minus (assistant/tools/constrain.py)."""
    from assistant.tools.numbers import words_to_digits

    digits = words_to_digits(query)
    said, signed = _numbers(digits), SIGNED.findall(digits)
    return len(said) == 1 and len(signed) == 1 and float(signed[0]) == said[0]


def lost_sign(query: str, call: ToolCall) -> str | None:
    """Why a conversion takes a value the user said below zero as above it ("it's minus ten celsius
    out, what's that in fahrenheit?" as value=10), else None. The other checks read numbers without
    their sign ("-1 days" and "the day before" both say 1); a temperature's is its meaning."""
    from assistant.tools.numbers import words_to_digits

    value = _length(call.arguments.get("value")) if call.name == "convert" else None
    if value is None or value <= 0:
        return None
    below = {float(n) for n in SIGNED.findall(words_to_digits(query))}
    return f"its call converts {_show([value])}, but you said minus {_show([value])}" if value in below else None


@functools.lru_cache(maxsize=64)
def said_units(query: str, value) -> dict[str, str | None]:
    """The units a conversion of `query` must hold, as the user wrote them: `from_unit` the one written
    right after `value` ("How many inches is 178 centimeters?" → "centimeters"; None without a value,
    or when it is another kind of thing than the unit asked for), `to_unit` the one asked for
    ("inches"). The checks below doubt a call that holds another unit of the same kind; the call
    constraint has the student write these (assistant/tools/constrain.py)."""
    from assistant.tools.convert import said_unit, target_unit
    from assistant.tools.numbers import words_to_digits

    try:
        after = said_unit(words_to_digits(query), abs(float(value))) if value is not None else None
    except (TypeError, ValueError):
        after = None
    asked = target_unit(query)
    if after and asked and after[1].dimensionality != asked[1].dimensionality:
        after = None  # "20 degrees in Fahrenheit": the words after the value are not the unit converted
    units = {"from_unit": after and after[0], "to_unit": asked and asked[0]}
    return {key: unit if unit and not set(unit) & set('"\\') else None for key, unit in units.items()}


def unsaid_unit(query: str, call: ToolCall) -> str | None:
    """Why a conversion does not start from the unit the user wrote after its value ("How many feet
    is 3 metres?" written as 3 feet to metres), else None."""
    if call.name != "convert":
        return None
    from assistant.tools.convert import other_unit, said_unit
    from assistant.tools.numbers import words_to_digits

    try:
        value = float(call.arguments.get("value"))
    except (TypeError, ValueError):
        return None
    written = str(call.arguments.get("from_unit") or "")
    said = said_unit(words_to_digits(query), value)
    if said is None or not other_unit(said[1], written):
        return None
    return f"its call converts {value:g} {written.strip()}, but you said {value:g} {said[0]}"


def unsaid_label(query: str, call: ToolCall) -> str | None:
    """Why a timer or alarm set without a name leaves out the one the user gave ("Time 6 minutes for the
    eggs" set as timer(minutes=6), "alarm at 17:30, call it gym" as alarm(time="17:30")), else None."""
    if not unnamed_setting(call):
        return None
    named = names_given(query, call.name)
    return f"its {call.name} leaves out the name you gave it, “{named[0]}”" if named else None


def unnamed_setting(call: ToolCall) -> bool:
    """Whether `call` sets a timer or an alarm with no name, or one that names nothing ("timer", "minutes")."""
    from assistant.tools.timers import label_of

    if call.name not in ("timer", "alarm") or call.arguments.get("action", "set") != "set":
        return False
    return not label_of(call.arguments.get("label") or "")


def names_given(query: str, kind: str) -> list[str]:
    """The names the user gave a timer or an alarm (`kind`) outright, in the order found: "for the
    eggs", "the pizza countdown", "time the pizza", "call it gym"; an alarm's only by the last."""
    patterns = (LABEL_FOR, LABEL_BEFORE, LABEL_TIMED) if kind == "timer" else ()
    named = [m[1] for pattern in patterns for m in pattern.finditer(query)]
    named += [m[1] or m[2] for m in LABEL_GIVEN.finditer(query)]
    return [word for word in named if word.lower() not in NOT_LABELS]


def unsaid_weekday(query: str, call: ToolCall) -> str | None:
    """Why a clock call does not count from the weekday the user named ("What day comes after
    Tuesday?" as clock(days=1), which counts from today), else None."""
    if call.name != "clock":
        return None
    from assistant.tools.clock import WEEKDAYS

    held = _held(call)
    named = [day for day in WEEKDAYS if re.search(rf"\b{day}\b", query, re.I) and day not in held]
    return f"its call leaves out {named[0].capitalize()}, which you named" if named else None


def unsent_message(query: str, call: ToolCall) -> str | None:
    """Why a note is no answer to a request to send someone a message, else None."""
    found = MESSAGE.match(query) if call.name == "note" else None
    return f"its call saves a note, but you asked to send {found[1]} a message" if found else None


def unsaid_operation(query: str, call: ToolCall) -> str | None:
    """Why a computation does not do the operation the user named ("Split 935 by 8" computed as
    935 - 8), else None."""
    if call.name != "calculate":
        return None
    from assistant.tools.calculate import normalize
    from assistant.tools.numbers import words_to_digits

    expression = str(call.arguments.get("expression") or "")
    for name, words, signs in OPERATIONS:
        said = words.search(query)
        if said and not signs.search(expression):
            return f"its call does not {name}, which you asked (“{said[0]}”)"
    by = BY.search(words_to_digits(query))
    if by and not BY_OTHER.search(query) and not BY_SIGNS.search(expression):
        return f"its call neither multiplies nor divides, which you asked (“{by[0]}”)"
    if re.fullmatch(r"\s*\(?\s*-?[\d.]+\s*\)?\s*", normalize(expression)):  # "three hundred forty-six" alone
        return "its call computes nothing: it holds one number and no operation"
    return None


def unsaid_offset(query: str, call: ToolCall) -> str | None:
    """Why a clock call gives a day itself where the user asked for the day before or after it ("What
    day comes before Monday?" as clock(date="Monday"), or as days from Monday to Wednesday), or counts
    the other way ("before Wednesday" as days=1), else None."""
    arguments = call.arguments
    if call.name != "clock":
        return None
    said = BEFORE_AFTER.search(query)
    unit = "month" if arguments.get("months") else "day"
    days = _length(arguments.get(f"{unit}s"))
    if days:  # counted, but which way: "the day before Wednesday" is no days=1, "3 days ago" no days=3
        if (counted := weekday_counted(query)) and counted[1] == days:  # "if tomorrow is Monday, … today?"
            return None
        way = way_counted(query)
        if way and way[0] != (days < 0):
            counted = f"{_show([abs(days)])} {unit}{'s' if abs(days) != 1 else ''} {'back' if days < 0 else 'on'}"
            return f"its call counts {counted}, but you said “{way[1]}”"
        return None
    if arguments.get("to_date") and COUNT_ASKED.search(query):  # "How many days are left before Christmas?"
        return None
    if _month_alone(call):  # "Which month comes after August?": a month's answer names the ones either side
        return None
    if said is None or said[1].lower() in _held(call):  # "the day after tomorrow" given as the date itself
        return None
    return f"its call does not count the days {said[1].lower()} the one you named"


def other_span(query: str, call: ToolCall) -> str | None:
    """Why a clock call counts days where the user counted months ("5 months after September" as days=5),
    or months where they counted days, else None."""
    if call.name != "clock":
        return None
    for counted, other in (("days", "months"), ("months", "days")):
        given = call.arguments.get(counted) and not call.arguments.get(other)
        if given and not SPANS[counted].search(query) and SPANS[other].search(query):
            return f"its call counts {counted}, but you counted {other}"
    return None


def way_counted(query: str | None) -> tuple[bool, str] | None:
    """Which way the user counts days, and the words that say it: (True, "ago") for "What was the date 3
    days ago?", (False, "in 9 days") for "What day will it be in 9 days?"; None when they say neither
    way, or both ("the day after the day before yesterday")."""
    from assistant.tools.numbers import words_to_digits

    said = words_to_digits(query or "")
    back, on = COUNTED_BACK.search(said), COUNTED_ON.search(said)
    if bool(back) == bool(on):
        return None
    return (True, back[0]) if back else (False, on[0])


def unnamed_label(query: str, call: ToolCall) -> str | None:
    """Why a timer's name is no name: its own length ("minutes, 6, 6", "30 seconds for me"), which a
    small student copies from the request instead of the thing the timer is for; else None."""
    from assistant.tools.timers import label_of

    label = label_of(call.arguments.get("label") or "")  # one that is only a length is shown as no name
    if call.name != "timer" or not LENGTH_WORDS.search(label):
        return None
    return f"its timer is named “{label.strip()}”, a length of time rather than what it is for"


def invented_label(query: str, call: ToolCall) -> str | None:
    """Why a timer's or alarm's name holds a word the user never said ("timer1", "timer22" for "I'd
    like a 22 minute timer"), else None. A word counts as said in its singular or plural ("Eggs
    timer" may be named "egg")."""
    from assistant.tools.timers import label_of

    if call.name not in ("timer", "alarm"):
        return None
    label = label_of(call.arguments.get("label") or "")
    said = {word.lower() for word in WORD.findall(query)}
    unsaid = [w for w in WORD.findall(label) if not {w.lower(), w.lower() + "s", w.lower().removesuffix("s")} & said]
    return f"its {call.name} is named “{label}”, with words you did not say" if unsaid else None


def invented_task(query: str, call: ToolCall) -> str | None:
    """Why a reminder is for something the user never said: not one word of its text is theirs ("Pasta's
    on, twelve minutes please." as a reminder to “stretch”, "At 6 pm I should call grandma, remind me."
    to “reminder”), else None. A word counts as said in its singular or plural."""
    text = str(call.arguments.get("text") or "") if call.name == "reminder" else ""
    words = [w.lower() for w in WORD.findall(text)]
    if not words:
        return None
    said = {word.lower() for word in WORD.findall(query)}
    if any({w, w + "s", w.removesuffix("s")} & said for w in words):
        return None
    return f"its reminder is for “{text.strip()}”, which you did not say"


def doubled_length(query: str, call: ToolCall) -> str | None:
    """Why a call gives one number the user said once as two lengths of time ("Can you time 3 hours
    for me?" as hours=3, minutes=3, seconds=3: three hours, three minutes and three seconds), else None."""
    from assistant.tools.numbers import words_to_digits

    lengths = {key: _length(call.arguments.get(key)) for key in DURATIONS}
    given = [value for value in lengths.values() if value]
    said = [float(n) for n in NUMBER.findall(words_to_digits(query))]
    for value in dict.fromkeys(given):
        if given.count(value) > max(1, said.count(value)):
            units = [key for key, length in lengths.items() if length == value]
            return f"its call gives {_show([value])} as {' and '.join(units)}, but you said it once"
    return None


def unasked_setting(query: str, call: ToolCall) -> str | None:
    """Why a timer, alarm or reminder answers a question for a number ("Three hours is how many
    minutes?" as a 3-hour timer) that names nothing to set, else None."""
    if call.name not in ("timer", "alarm", "reminder") or call.arguments.get("action") not in (None, "set"):
        return None
    asked = HOW_MANY.search(query)
    if not asked or SETTING_WORDS.search(query):
        return None
    return f"its call sets a {call.name}, but you asked “{asked[0]}”"


def unrung_reminder(query: str, call: ToolCall) -> str | None:
    """Why a saved note is no answer to a request to be reminded: a note never rings. Else None."""
    asked = REMIND.search(query) if call.name == "note" and call.arguments.get("text") else None
    return "its call saves a note, but you asked to be reminded, and a note never rings" if asked else None


def unasked_note(query: str, call: ToolCall) -> str | None:
    """Why a saved note is no answer: to a question ("Did I save anything about the gate?" saved as a
    note of "the gate"), to a request to be told something ("Tell me the chemical symbol for sodium."
    saved as "Sodium"), or to anything else that asks nothing to be kept ("hey who painted the starry
    night" saved as "the starry night", "Double 37 for me." as "I'm double 37"), else None."""
    if call.name != "note" or not call.arguments.get("text"):
        return None
    if QUESTION.match(query):
        return "its call saves a note, but you asked a question"
    if TELL_ME.match(query):
        return "its call saves a note, but you asked to be told something"
    return None if KEEP_ASKED.search(query) else "its call saves a note, but you did not ask to keep anything"


def unasked_search(query: str, call: ToolCall) -> str | None:
    """Why a search of the notes is no answer: the user asked to save one ("Make a note: the boiler code
    is 4312." as find="the boiler code is 4312"), or asked nothing of their own at all ("Who scored in
    last night's game?" as find="real madrid", which only finds no note), else None."""
    if call.name != "note" or not call.arguments.get("find") or call.arguments.get("text"):
        return None
    if SAVE_NOTE.search(query):
        return "its call searches your notes, but you asked to save one"
    if not OWN.search(FOR_ME.sub(" ", query)):
        return "its call searches your notes, but you did not ask about anything of yours"
    return None


def unasked_count(query: str, call: ToolCall) -> str | None:
    """Why a clock call counts the days to a date where the user asked which day of the week it falls
    on, else None."""
    arguments = call.arguments
    if call.name != "clock" or not arguments.get("to_date"):
        return None
    if asked := WEEKDAY_ASKED.search(query):
        return f"its call counts the days to {arguments['to_date']}, but you asked “{asked[0]}”"
    # "How many days are in April?" as the days until April 1
    if COUNT_ASKED.search(query) and not COUNT_TO.search(query) and _a_month(arguments["to_date"]):
        return f"its call counts the days to {arguments['to_date']}, but you asked how many days it has"
    return None


def reversed_operands(query: str, call: ToolCall) -> str | None:
    """Why a difference or a quotient takes the user's two numbers the other way round ("Subtract 22
    from 652" as 22 - 652, "What is 81 minus 2?" as 2 - 81), else None."""
    found = operands_swapped(query, call)
    if found is None:
        return None
    first, sign, second = (abs(float(found[1])), found[2], abs(float(found[3])))
    return f"its call computes {_show([first])} {sign} {_show([second])}, the other way round from what you asked"


def operands_swapped(query: str, call: ToolCall) -> re.Match | None:
    """A computation of one number less or over another (`TWO_OPERANDS`, read as the calculator reads
    it) that takes the user's two numbers the other way round from the order they said them in, else
    None: the earlier said comes first, unless words between them put the later first ("Subtract 22
    from 652", `REVERSED`). A difference "between" two numbers, or a percentage, may go either way."""
    from assistant.tools.calculate import normalize
    from assistant.tools.numbers import words_to_digits

    # the expression as the calculator reads it: "nineteen minus seventy-two" is 19 - 72
    expression = normalize(str(call.arguments.get("expression") or "")) if call.name == "calculate" else ""
    found = TWO_OPERANDS.fullmatch(expression) if expression else None
    if found is None or re.search(r"\bdifference\b|%|\bpercent", query, re.I):  # "10% of 405" is 405 / 10
        return None
    first, second = abs(float(found[1])), abs(float(found[3]))
    text = words_to_digits(query)
    places = {}
    for match in NUMBER.finditer(text):
        places.setdefault(abs(float(match[0])), match)
    if first == second or first not in places or second not in places:
        return None
    earlier, later = sorted((places[first], places[second]), key=lambda m: m.start())
    said = (earlier, later) if not REVERSED.search(text[earlier.end() : later.start()]) else (later, earlier)
    return None if (abs(float(said[0][0])), abs(float(said[1][0]))) == (first, second) else found


# What the user asks done with a number after the ones a calculation already holds: "(156 + 84) divided by
# 6", "45 plus 78, then times the whole thing by 12". Only said of the whole so far: "then", "the whole
# thing", "the total", a closing bracket; "245 plus 118 divided by 2" leaves which first to the words.
ON_THE_WHOLE = re.compile(r"\)|\bthen\b|\bwhole\b|\btotal\b|\bresult\b|\ball (?:of )?(?:that|it)\b", re.I)
OPERATION_WORDS = (
    ("*", re.compile(r"\b(?:times|multipl\w*)\b", re.I)),
    ("/", re.compile(r"\b(?:divided|divide|over|split)\b", re.I)),
    ("+", re.compile(r"\b(?:plus|add|added)\b", re.I)),
    ("-", re.compile(r"\b(?:minus|subtract\w*|less|take away)\b", re.I)),
)
# A sum or a product of every number said: "Add up 245, 118 and 37", "multiply 3, 4 and 5 together".
ALL_ADDED = re.compile(r"\b(?:add(?:ing)? up|add together|sum|total of|plus)\b", re.I)
ALL_MULTIPLIED = re.compile(r"\b(?:multiply|product of|times)\b", re.I)


def computation_cut(query: str, call: ToolCall) -> str | None:
    """The whole computation the user said, where a calculation holds only the first of their numbers
    in the order said ("Add up 245, 118 and 37." as "245 + 118" is "245 + 118 + 37", "(156 + 84)
    divided by 6" as "156 + 84" is "(156 + 84) / 6"), else None. One reading only: a sum or product of
    every number, or one operation done on the whole so far."""
    from assistant.tools.calculate import normalize
    from assistant.tools.numbers import words_to_digits

    expression = normalize(str(call.arguments.get("expression") or "")) if call.name == "calculate" else ""
    held = _numbers(expression)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", words_to_digits(query))
    said = list(NUMBER.finditer(text))
    values = [abs(float(m[0])) for m in said]
    if not held or len(held) >= len(values) or values[: len(held)] != held:
        return None
    if not re.search(r"[\d)]\s*$", expression):  # "17 *": a call cut off mid-way, not one computed whole
        return None
    rest = said[len(held) :]
    operators = set(re.findall(r"[-+*/^%]", expression.replace("×", "*").replace("÷", "/")))
    after = text[said[0].start() :]
    for operator, words in (("+", ALL_ADDED), ("*", ALL_MULTIPLIED)):
        others = [o for o, named in OPERATION_WORDS if o != operator and named.search(after)]
        if operators == {operator} and words.search(text) and not others:  # "45 plus 78, then times…" is no sum
            return " ".join([expression] + [f"{operator} {m[0]}" for m in rest])
    if len(rest) != 1:
        return None
    gap = text[said[len(held) - 1].end() : rest[0].start()]
    named = [operator for operator, words in OPERATION_WORDS if words.search(gap)]
    if len(named) != 1 or not ON_THE_WHOLE.search(gap):
        return None
    return f"({expression}) {named[0]} {rest[0][0]}"


def unsaid_date(query: str, call: ToolCall) -> str | None:
    """Why a clock call names a month or a weekday the user did not ("What day comes before Wednesday?"
    as clock(date="Wednesday", to_date="Thursday"), "What time is it?" as to_date="January 1st"), else
    None. A holiday says its month ("Christmas" is in December)."""
    if call.name != "clock":
        return None
    from assistant.tools.clock import HOLIDAYS, MONTHS, WEEKDAYS

    words = {word.lower() for word in WORD.findall(query)}
    lowered = query.lower()
    months = {MONTHS[word] for word in words if word in MONTHS}
    months |= {month for name, (month, _) in HOLIDAYS.items() if re.search(rf"\b{re.escape(name)}\b", lowered)}
    for key in ("date", "to_date"):
        for word in WORD.findall(str(call.arguments.get(key) or "").lower()):
            if (word in MONTHS and MONTHS[word] not in months) or (word in WEEKDAYS and word not in words):
                return f"its call names {word.capitalize()}, which you did not"
    return None


def uncounted_days(query: str, call: ToolCall) -> str | None:
    """Why a clock call that counts no days answers a question for a count of them ("How many days
    until May 3?" as clock(date="May 3"), which gives its weekday), else None."""
    arguments = call.arguments
    if call.name != "clock" or arguments.get("to_date") or arguments.get("days"):
        return None
    asked = COUNT_ASKED.search(query)
    if asked and _month_alone(call) and not COUNT_TO.search(query):  # "How many days are there in April?"
        return None
    return f"its call counts no days, but you asked “{asked[0]}”" if asked else None


# The days on from a day the question asks about, first match wins: (pattern, sign); a pattern with a
# number in it counts that many days, one without counts one.
OFFSETS = (
    (re.compile(r"\bday after tomorrow\b", re.I), 2),
    (re.compile(r"\bday before yesterday\b", re.I), -2),
    (re.compile(r"\btomorrow\b", re.I), 1),
    (re.compile(r"\byesterday\b", re.I), -1),
    (re.compile(r"\bin (\d{1,3}) days?\b|\b(\d{1,3}) days? (?:from now|from today|later|on)\b", re.I), +1),
    (re.compile(r"\b(\d{1,3}) days? ago\b", re.I), -1),
)


# The day the user supposes a weekday is, as days on from today: "if yesterday was Friday" makes today Saturday.
SUPPOSED_FROM_TODAY = {"today": 0, "yesterday": 1, "tomorrow": -1}
TODAY_ASKED = re.compile(r"\btoday\b", re.I)


def supposed_offset(query: str) -> tuple[str, int] | None:
    """The weekday the user supposes a day is and the days on from it they ask about ("If today is
    Saturday, what day is it tomorrow?" is ("Saturday", 1), "Say it's Thursday today. What day will
    it be 4 days from now?" ("Thursday", 4), "if yesterday was friday, what day is tomorrow?"
    ("Friday", 2): yesterday's Friday makes tomorrow two days on), or None."""
    from assistant.router import SUPPOSED_DAY
    from assistant.tools.numbers import words_to_digits

    supposed = SUPPOSED_DAY.search(query or "")
    if supposed is None:
        return None
    when = (supposed["when"] or supposed["when2"] or supposed["when3"]).lower()
    start = supposed["day"] or supposed["day2"] or supposed["day3"]
    if not start:
        return None
    rest = words_to_digits(query[supposed.end() :])
    to_today = SUPPOSED_FROM_TODAY[when]
    for pattern, sign in OFFSETS:
        if found := pattern.search(rest):
            numbers = [g for g in found.groups() if g]
            days = to_today + (sign * int(numbers[0]) if numbers else sign)
            return (start.capitalize(), days) if days else None
    if to_today and TODAY_ASKED.search(rest):  # "if tomorrow is Friday, what day is it today?"
        return start.capitalize(), to_today
    return None


# Days counted from a weekday by itself: "five days after a thursday", "3 days before Monday".
WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
COUNTED_FROM_WEEKDAY = re.compile(
    rf"\b(\d{{1,3}})\s+days?\s+(after|following|before|prior\s+to)\s+(?:a\s+|an\s+|the\s+)?{WEEKDAY}\b", re.I
)


@functools.lru_cache(maxsize=64)  # read again for each token while a clock call is written
def weekday_counted(query: str) -> tuple[str, int] | None:
    """The weekday a question counts days from and the days it counts, negative for before: one the
    user supposes a day is (`supposed_offset`), or one they count from by itself ("what day is it
    five days after a thursday?" is ("Thursday", 5), "three days before a monday" ("Monday", -3)); None
    when the question counts from no weekday, or from more than one."""
    from assistant.tools.numbers import words_to_digits

    if supposed := supposed_offset(query):
        return supposed
    counted = COUNTED_FROM_WEEKDAY.findall(words_to_digits(query or ""))
    if len(counted) != 1 or not int(counted[0][0]):
        return None
    days, way, day = counted[0]
    return day.capitalize(), int(days) * (-1 if way.lower().startswith(("before", "prior")) else 1)


# The day just after or before a weekday, no days counted: "What day comes after Sunday?", "the day
# before a friday", "which day follows Tuesday".
NEXT_TO_WEEKDAY = re.compile(
    r"\b(?:(?:day|comes?|came|falls?|is)\s+(?:right\s+|just\s+|directly\s+|immediately\s+)?"
    rf"(after|following|before|prior\s+to)|(follows|precedes))\s+(?:a\s+|an\s+)?{WEEKDAY}\b",
    re.I,
)
# Any count or span said ("2 days", "a week after Monday", "the day after next Sunday"): no single day.
COUNT_OR_SPAN = re.compile(r"\d|\b(?:weeks?|fortnights?|months?|years?|days|next|last|this)\b", re.I)


@functools.lru_cache(maxsize=64)  # as `weekday_counted`: read again for each token while a clock call is written
def next_to_weekday(query: str) -> tuple[str, int] | None:
    """The weekday whose next or previous day the user asks, and 1 or -1 ("What day comes after Sunday?"
    is ("Sunday", 1), "the day before a friday" ("Friday", -1)); None when they count days or weeks
    themselves, suppose a day is some weekday (`weekday_counted`), or name more than one such day. "The
    day after" a weekday is one day on, where "the day after tomorrow" is two."""
    from assistant.tools.numbers import words_to_digits

    said = words_to_digits(query or "")
    found = NEXT_TO_WEEKDAY.findall(said)
    if len(found) != 1 or COUNT_OR_SPAN.search(said) or weekday_counted(query):
        return None
    way, other_way, day = found[0]
    back = (way or other_way).lower().startswith(("before", "prior", "precedes"))
    return day.capitalize(), -1 if back else 1


# The month just after or before a month, asked for itself: "Which month comes after June?", "the month
# before february is what?", "what month follows March".
NEXT_TO_MONTH = re.compile(
    r"\bmonth\b[^.?!]*?\b(?:after|following|before|prior\s+to|follows|precedes)\s+([a-z]+)\b", re.I
)
NOT_THE_MONTH = re.compile(r"\d|\b(?:days?|dates?|weeks?|years?|months|next|last|this)\b", re.I)
WHAT_OR_WHICH = re.compile(r"\b(?:what|which)\b", re.I)


@functools.lru_cache(maxsize=64)  # as `weekday_counted`: read again for each token while a clock call is written
def next_to_month(query: str) -> int | None:
    """The month (1-12) whose next or previous month the user asks for ("Which month comes after June?"
    is 6); None when they ask anything else of it: its days, a date in it, a count of months."""
    from assistant.tools.months import SPELLINGS
    from assistant.tools.numbers import words_to_digits

    said = words_to_digits(query or "")
    found = NEXT_TO_MONTH.findall(said)
    if len(found) != 1 or NOT_THE_MONTH.search(said) or not WHAT_OR_WHICH.search(said):
        return None
    return SPELLINGS.get(found[0].lower())


# A month asked for by its place in the year: "the eleventh month", "which month is number 5", "the
# eighth one of the year".
MONTH_BY_PLACE = (
    re.compile(r"\b(\w+)\s+(?:month\b|(?:one|1)\s+(?:of|in)\s+the\s+year\b)", re.I),  # "one" may be "1" by now
    re.compile(r"\bmonth\s+(?:is\s+)?(?:number|no\.?|#)\s*(\d{1,2})\b", re.I),
)


def month_by_place(query: str) -> int | None:
    """The month (1 to 12) the user asks for by its place in the year ("Name the third month of the
    year." is 3, "counting from january, which month is number five" 5), or None: a question that names
    no such place, or more than one, or counts days or months from it."""
    from assistant.tools import months
    from assistant.tools.numbers import words_to_digits

    said = words_to_digits(query or "")
    # "3 months after the sixth month" counts from it: the clock's to count, not a month by itself
    if not re.search(r"\bmonths?\b", said, re.I) or re.search(r"\b\d+\s+(?:days?|weeks?|months?)\b", said, re.I):
        return None
    places = set()
    for pattern in MONTH_BY_PLACE:
        for found in pattern.finditer(said):
            # a place said as a number only after "number": "3 month" is a count of them
            number = int(found[1]) if pattern is MONTH_BY_PLACE[1] else months.ORDINALS.get(found[1].lower())
            if number is not None and 1 <= number <= 12:
                places.add(number)
    return places.pop() if len(places) == 1 else None


def uncounted_supposed(query: str, call: ToolCall) -> str | None:
    """Why a clock call does not count the days on from the weekday the user supposes a day is, or counts
    from (`weekday_counted`: "If today is Saturday, what day is it tomorrow?" as clock(date="Saturday"),
    which gives Saturday itself, or as days=2), else None."""
    if call.name != "clock" or (supposed := weekday_counted(query)) is None:
        return None
    day, days = supposed
    counted = _length(call.arguments.get("days")) or 0
    if counted == days:
        return None
    way = "after" if days > 0 else "before"
    return f"its call does not count the {abs(days)} day{'s' if abs(days) != 1 else ''} {way} {day} you asked about"


def _month_alone(call: ToolCall) -> bool:
    """Whether a clock call asks about a month by itself ("April", "the sixth month"), which it answers
    with the month's length and neighbours."""
    alone = call.name == "clock" and not call.arguments.get("to_date") and not call.arguments.get("days")
    return alone and _a_month(call.arguments.get("date"))


def _a_month(value) -> bool:
    """Whether a date argument names a month by itself ("April", "the sixth month")."""
    import datetime as dt

    from assistant.tools import months

    return isinstance(value, str) and months.read(value, dt.date.today()) is not None


def unsaid_task(query: str, call: ToolCall) -> str | None:
    """Why a reminder's text leaves out what the user asked to be reminded of ("Remind me at 9:30 pm
    to check the oven" as “the oven”, "…to reply to Anna" as “to Anna”): its first and last words must
    be there; or why a timer or an alarm stands for such a request ("Tell me to move the car in 3
    hours" as an alarm at "3 hours"). Else None."""
    from assistant.tools.numbers import words_to_digits

    found = REMIND_TO.search(words_to_digits(query)) if call.name in ("reminder", "timer", "alarm") else None
    if found is None:
        return None
    if call.name != "reminder":  # a timer or an alarm rings with no words to say what it was for
        return f"its {call.name} would ring without what you asked to be reminded of, “{found[1].strip()}”"
    task = WORD.findall(found[1].lower())
    held = {word.lower() for word in WORD.findall(str(call.arguments.get("text") or ""))}
    if not task or {task[0], task[-1]} <= held:
        return None
    return f"its reminder says “{str(call.arguments.get('text') or '').strip()}”, but you asked to {found[1].strip()}"


def other_length(query: str, call: ToolCall) -> str | None:
    """Why a timer or reminder waits another length than the one the user said with its unit ("Start
    a 25 second timer" as minutes=25, "a 1 hour timer" as minutes=1), else None. A length said in
    words ("a quarter of an hour") is left to `unsaid_numbers`."""
    from assistant.tools.numbers import words_to_digits

    if call.name not in ("timer", "reminder"):
        return None
    parts = [_length(call.arguments.get(key)) or 0.0 for key in DURATIONS]
    waits = parts[0] * 3600 + parts[1] * 60 + parts[2]
    text = words_to_digits(query)
    said = [float(n) * SECONDS_IN[unit[0].lower()] for n, unit in SAID_LENGTH.findall(text)]
    if not waits or not said or FRACTIONS.search(text):
        return None
    if any(abs(waits - length) < 1e-6 for length in (*said, sum(said))):
        return None
    return f"its call waits {_wait(waits)}, but you said {' and '.join(_wait(length) for length in said)}"


def unsaid_length(query: str, call: ToolCall) -> str | None:
    """Why a timer or reminder waits a length the user never said as one: no unit of time, short or
    long, and no fraction of an hour ("is United flight 902 on time?" as a timer of 902 minutes), else
    None. A reminder for a clock time waits no length and is left alone."""
    from assistant.tools.numbers import words_to_digits

    if call.name not in ("timer", "reminder"):
        return None
    parts = [_length(call.arguments.get(key)) or 0.0 for key in DURATIONS]
    if not any(parts) or LENGTH_SAID.search(words_to_digits(query)):
        return None
    waits = parts[0] * 3600 + parts[1] * 60 + parts[2]
    return f"its call waits {_wait(waits)}, but you never said how long"


def half_said(query: str) -> tuple[bool, str] | None:
    """(morning, the words that say it) when the query says one half of the day; None when it says
    both or neither."""
    from assistant.tools.numbers import words_to_digits

    said = words_to_digits(query)
    morning, later = MORNING_SAID.search(said), LATER_SAID.search(said)
    if bool(morning) == bool(later):
        return None
    return (True, morning[0]) if morning else (False, later[0])


def other_half_of_day(query: str, call: ToolCall) -> str | None:
    """Why an alarm or reminder rings in the other half of the day than the one the user said ("an
    alarm at nine in the evening" as time="9 am"), else None. Said both ways, or not at all, nothing is doubted."""
    from assistant.tools import ToolError
    from assistant.tools.timers import parse_clock

    time = call.arguments.get("time") if call.name in ("alarm", "reminder") else None
    if not time:
        return None
    try:
        hour, minute, ambiguous, _ = parse_clock(str(time))
    except ToolError:
        return None
    half = None if ambiguous else half_said(query)
    if half is None:
        return None
    morning, words = half
    if morning and hour >= 12:
        return f"its call rings at {hour:02d}:{minute:02d}, but you said the morning"
    if not morning and 5 <= hour < 12:
        return f"its call rings at {hour:02d}:{minute:02d}, in the morning, but you said {words}"
    return None


def other_time(query: str, call: ToolCall) -> str | None:
    """Why an alarm or reminder rings at another clock time than the one the user said ("an alarm for
    half past eight" as time="8", "quarter to seven" as "7", "wake me at noon" as "19:30"), else None.
    Only a time the query says plainly counts (with its minutes, am or pm, or o'clock, in digits or
    words, or noon, midday or midnight); for a time in digits either half of the day is the same time
    here (`other_half_of_day` asks which)."""
    from assistant.tools import ToolError
    from assistant.tools.timers import parse_clock, spoken_clock

    time = call.arguments.get("time") if call.name in ("alarm", "reminder") else None
    if not isinstance(time, str) or not time.strip():
        return None
    found = TIME_SAID.finditer(spoken_clock(query.lower()))
    said = [(int(m["h"]), int(m["m"] or 0), m[0].strip()) for m in found if m["m"] or m["half"]]
    named = [(0 if word == "midnight" else 12, 0, word) for word in NAMED_TIME.findall(query.lower())]
    if not said and not named:
        return None
    try:
        hour, minute, ambiguous, _ = parse_clock(time)
    except ToolError:
        return None
    if any(hour % 12 == h % 12 and minute == m for h, m, _ in said):
        return None
    # noon and midnight name their half of the day too; a bare "12" may be either
    if any(minute == m and (hour == h or (ambiguous and hour % 12 == h % 12)) for h, m, _ in named):
        return None
    said += named
    return f"its call rings at {hour:02d}:{minute:02d}, but you said {' or '.join(words for _, _, words in said)}"


def other_target_unit(query: str, call: ToolCall) -> str | None:
    """Why a conversion ends in another unit than the one the user asked for ("How many ounces is 250
    grams?" converted to pounds), else None. Only a unit of the same kind counts: a target read as
    another kind of thing is a misreading here, not a swap by the student."""
    if call.name != "convert":
        return None
    from assistant.tools.convert import other_unit, target_unit

    written = str(call.arguments.get("to_unit") or "")
    asked = target_unit(query)
    if asked is None or not other_unit(asked[1], written):
        return None
    return f"its call converts to {written.strip()}, but you asked for {asked[0]}"


def unsaid_place(query: str, call: ToolCall) -> str | None:
    """Why a clock call tells the time here, or somewhere else, when the user named a place the clock
    knows ("What's the time over in Sydney?" as clock()), else None."""
    if call.name != "clock" or call.arguments.get("date") or call.arguments.get("to_date"):
        return None
    from assistant.tools import ToolError
    from assistant.tools.clock import find_zone

    asked = next((named for found in PLACE_SAID.finditer(query) if (named := _place(found[1]))), None)
    if asked is None:
        return None
    place = str(call.arguments.get("place") or "").strip()
    try:
        if place and find_zone(place) == asked[1]:
            return None
    except ToolError:
        pass
    return f"its call tells the time {f'in {place}' if place else 'here'}, but you asked about {asked[0]}"


# The time somewhere, asked in lower case as often as not: "what's the time in buenos aires".
TIME_IN = re.compile(r"\b(?:time|clock)\b[^.?!]*?\bin\s+([\w.'-]+(?:\s+[\w.'-]+){0,2})", re.I)
# The time now, here: "got the time?", "What's the clock say?"; a day, a date or a count is the calendar's.
TIME_NOW = re.compile(r"\b(?:time|clock)\b", re.I)
CALENDAR_WORDS = re.compile(
    r"\b(?:days?|dates?|weeks?|weekday|months?|years?|until|till|since|ago|before|after|from|timers?|alarms?|"
    r"remind\w*|set|start|times|zones?)\b|\d",
    re.I,
)


@functools.lru_cache(maxsize=64)  # read again for each token while a clock call is written
def place_asked(query: str) -> tuple[str, str] | None:
    """The place the user asks the time or the day in, as the clock knows it, with its zone ("what's the
    time in buenos aires" is ("buenos aires", "America/Argentina/Buenos_Aires")), else None."""
    said = (found[1] for pattern in (PLACE_SAID, TIME_IN) for found in pattern.finditer(query or ""))
    return next((named for words in said if (named := _place(words))), None)


def time_now_asked(query: str) -> bool:
    """Whether the user asks for the time ("got the time?", "What's the clock say?", "what time is it
    right now?") and no day, date, count or setting; where, `place_asked` reads."""
    return bool(TIME_NOW.search(query or "")) and not CALENDAR_WORDS.search(query)


def invented_place(query: str, call: ToolCall) -> str | None:
    """Why a clock call tells the time in a place the user never named ("What time is it right now?" as
    clock(place="New York")), else None. A word counts as said in any case."""
    place = str(call.arguments.get("place") or "") if call.name == "clock" else ""
    said = {word.lower() for word in WORD.findall(query)}
    unsaid = [w for w in WORD.findall(place) if w.lower() not in said]
    return f"its call tells the time in {place.strip()}, which you did not name" if unsaid else None


def _place(words: str) -> tuple[str, str] | None:
    """The longest start of `words` the clock knows as a place ("New York City" → "New York"), with its zone."""
    from assistant.tools import ToolError
    from assistant.tools.clock import find_zone

    split = words.split()
    for k in range(len(split), 0, -1):
        try:
            return " ".join(split[:k]), find_zone(" ".join(split[:k]))
        except ToolError:
            continue
    return None


def _wait(seconds: float) -> str:
    """A length of time in its largest whole unit: 5400 as "90 minutes", 25 as "25 seconds"."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{_show([seconds])} second{'s' if seconds != 1 else ''}"


def _length(value) -> float | None:
    """A length argument as a number ("3" as the model may write it), or None."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _held(call: ToolCall) -> str:
    """A call's argument values as one lowercase text, to look for words the user said."""
    return " ".join(str(value) for value in call.arguments.values()).lower()


def _known(said: list[float], implied: set[float]) -> set[float]:
    """The numbers a call may hold: those said, those implied ("half"), and each said one times an implied one."""
    return set(said) | implied | {a * b for a in implied for b in said}


def _same_length(value: float, known: set[float]) -> bool:
    """Whether a length of time is one of `known` in some unit: 150 seconds is 2.5 minutes."""
    return any(abs(value - k * f) <= 1e-9 * max(1.0, value) for k in known for f in UNIT_FACTORS)


def _numbers(text: str) -> list[float]:
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 is one number
    found = []
    for match in NUMBER.finditer(text):
        value = abs(float(match.group(0)))  # "-1 days" and "the day before" both say 1
        if value not in found:
            found.append(value)
    return found


def _show(numbers: list[float]) -> str:
    return " and ".join(str(int(n)) if math.isfinite(n) and n == int(n) else str(n) for n in numbers)
