"""Timers, alarms and reminders: set, list and cancel them; the ringer process rings them.

Three tools share one table (`timers` in the store) and one shape of call:

    timer(minutes=10)                         a countdown
    alarm(time="7 am")                        the next such clock time
    reminder(text="call mum", minutes=20)     words that ring, after a delay or at a clock time

each also with action="list", or action="cancel" and an id or label. Setting one starts the
ringer (assistant/tools/ringer.py) when none runs for this APPRENTICE_HOME, so a timer set by a
one-shot `apprentice ask` still rings after that command exited. Times are stored in UTC and
shown in the user's zone, 24-hour ("14:32"). A clock time may name its day and the part of it
("9 tomorrow", "6:10 tomorrow morning", "friday at 9", "12 at night") and may be said in words
("half past eight", "quarter to seven", "seven thirty am"); nothing repeats, so a time
or words that ask for a repeat ("every day", "weekdays", "on Mondays") are refused in a sentence
rather than set once as if for good. One numbering serves the three kinds: "cancel reminder 4"
does not cancel alarm 4.

The surfaces show what rang with `due_unshown(store)` and `mark_shown(store, ids)` (in
assistant/tools/rings.py, which imports little): a ring that no surface showed counts as
missed, and so does whatever came due while no ringer ran.

    python -m assistant.tools.timers "at 7"     # which time an alarm "at 7" would ring at now
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from typing import Literal

from assistant.tools import ToolContext, ToolError, ToolResult, tool
from assistant.tools.clock import WEEKDAYS
from assistant.tools.numbers import words_to_digits
from assistant.tools.rings import (
    as_json,
    at_clock,
    clock_words,
    describe,
    due_unshown,
    duration_words,
    in_zone,
    mark_shown,
    short_duration,
    until_words,
    utc_iso,
    what,
)

__all__ = ["alarm", "due_unshown", "mark_shown", "next_clock_time", "parse_clock", "reminder", "timer"]

MAX_TIMER_S = 7 * 86400  # a week: longer is a reminder or an alarm, not a countdown
MAX_REMINDER_S = 366 * 86400

Action = Literal["set", "list", "cancel"]


# -- clock times --------------------------------------------------------------------------

_CLOCK = re.compile(r"(?P<h>\d{1,2})(?:[:.h]?(?P<m>\d{2}))?\s*(?P<ap>am|pm|a|p)?\s*(?:o'?\s?clock)?")
# A part of the day says am or pm; bare after "tomorrow" too ("6:10 tomorrow morning", "8 tomorrow night").
_EVENING = re.compile(r"\b(tonight|(?:this |in the )?(?:evening|afternoon)|(?:at )?night)\b")
_MORNING = re.compile(r"\b(?:this |in the )?morning\b")
_NIGHT = re.compile(r"\b(tonight|night)\b")  # its small hours are after midnight: the next day, and meant so


# A time said in words, once its numbers are digits: "half past 8", "a quarter to 7", "20 past 6", "half 7"
# (British for 7:30), and "7 30" for "seven thirty".
_PAST_TO = re.compile(
    r"\b(?:a\s+)?(half|quarter|\d{1,2})\s+(?:minutes?\s+)?(past|after|to|before|till|of)\s+(\d{1,2})\b"
    r"(?![:.]\d|\s*(?:minutes?|mins?|hours?|hrs?|seconds?|secs?|days?|weeks?)\b)"  # "5 to 7 minutes": a range
)
_HALF_HOUR = re.compile(r"\bhalf\s+(\d{1,2})\b")
_SPACED = re.compile(r"\b(\d{1,2})\s+(\d{2})\b")

_TOMORROW = re.compile(r"\b(?:tmrw|tmrow|tmr|tmw|tomorow|tommorow|tommorrow|2moro)\b")  # as typed in a hurry
_DAYS = "|".join(WEEKDAYS)
_WEEKDAY = re.compile(rf"\b(?:on |this |next )?({_DAYS})\b")


def parse_clock(text: str) -> tuple[int, int, bool, str | None]:
    """ "7:30 pm" -> (19, 30, ambiguous=False, day=None). A time with no am/pm whose hour could be
    either ("at 7", "7:00") is ambiguous; one written with a leading zero or past 12 ("07:30",
    "19:00") is not. `day` is "tomorrow", a weekday ("friday"), or None for the next such time.
    ToolError when it is not a clock time."""
    raw = str(text).strip()
    words = spoken_clock(raw.lower())
    words = words.replace("a.m.", "am").replace("p.m.", "pm").replace("a.m", "am").replace("p.m", "pm")
    words = _TOMORROW.sub("tomorrow", words)
    weekday = _WEEKDAY.search(words)
    day = "tomorrow" if re.search(r"\btomorrow\b", words) else weekday[1] if weekday else None
    evening, morning = bool(_EVENING.search(words)), bool(_MORNING.search(words))
    night = bool(_NIGHT.search(words))
    words = _WEEKDAY.sub(" ", re.sub(r"\b(tomorrow|today)\b", " ", words))
    words = _EVENING.sub(" ", _MORNING.sub(" ", words))
    words = re.sub(r"\bplease\b", " ", words)  # "8:45 pm, please" is asked as politely as it is read
    words = re.sub(r"^\s*(at|for|by|on)\b", " ", words).strip(" ,.")
    if words in ("noon", "midday"):
        return 12, 0, False, day
    if words == "midnight":
        return 0, 0, False, day
    match = _CLOCK.fullmatch(words)
    if not match:
        raise ToolError(f"{raw!r} is not a clock time I can read; say it like 7:30, 7 am or 19:00.")
    hour, minute = int(match["h"]), int(match["m"] or 0)
    meridiem = (match["ap"] or "")[:1] or ("p" if evening else "a" if morning else "")
    if not match["ap"] and night and (hour == 12 or 1 <= hour <= 4):
        meridiem = "a"  # "12 at night" is midnight, "1 tonight" the small hours, not the afternoon
    if minute > 59 or hour > 23 or (meridiem and not 1 <= hour <= 12):
        raise ToolError(f"{raw!r} is not a clock time; say it like 7:30, 7 am or 19:00.")
    if meridiem:
        return hour % 12 + (12 if meridiem == "p" else 0), minute, False, day
    ambiguous = 1 <= hour <= 12 and not match["h"].startswith("0")
    return hour, minute, ambiguous, day


def spoken_clock(text: str) -> str:
    """A clock time said in words written as digits: "half past eight" -> "8:30", "a quarter to seven" ->
    "6:45", "seven thirty am" -> "7:30 am"; other words are left as they were."""
    text = past_or_to(words_to_digits(text))
    text = _HALF_HOUR.sub(lambda m: f"{m[1]}:30" if int(m[1]) <= 12 else m[0], text)
    return _SPACED.sub(lambda m: f"{m[1]}:{m[2]}" if int(m[1]) <= 23 and int(m[2]) <= 59 else m[0], text)


def past_or_to(text: str) -> str:
    """Times said past or to an hour, once their numbers are digits, as clock times: "half past 8" -> "8:30",
    "a quarter to 7" -> "6:45", "10 past 2" -> "2:10"; "5 to 7 minutes" (a range) is left as it was."""

    def clock(found: re.Match) -> str:
        part, way, hour = found[1], found[2], int(found[3])
        minutes = 30 if part == "half" else 15 if part == "quarter" else int(part)
        if hour > 12 or minutes >= 60 or (part == "half" and way not in ("past", "after")):
            return found[0]
        if way in ("past", "after"):
            return f"{hour}:{minutes:02d}"
        return f"{(hour - 2) % 12 + 1}:{60 - minutes:02d}"  # "a quarter to 1" is 12:45

    return _PAST_TO.sub(clock, text)


_DELAY_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_delay(text: str) -> float | None:
    """ "in 20 minutes", "1 hour 30 min" -> seconds; None when `text` is not a delay (a clock time)."""
    words = re.sub(r"^\s*in\b", " ", str(text).lower()).replace(" and ", " ").strip(" ,.")
    parts = _DELAY_PART.findall(words)
    if not parts or _DELAY_PART.sub("", words).strip(" ,"):
        return None
    return sum(float(n) * _UNIT_SECONDS[unit[0]] for n, unit in parts)


def next_clock_time(text: str, now: dt.datetime) -> tuple[dt.datetime, str]:
    """The next time `text` names after `now`, in now's zone, and what the answer should add about
    the choice: that it is tomorrow because today's has passed, or which of two it took."""
    hour, minute, ambiguous, day = parse_clock(text)
    start, later = now, 1  # from when, and how many days on when that day's time has passed
    if day == "tomorrow":
        start = at_clock(now.date() + dt.timedelta(days=1), dt.time(0, 0), now)
    elif day:  # "on Friday": this week's, or next week's once it has passed
        ahead = (WEEKDAYS.index(day) - now.weekday()) % 7
        start, later = (at_clock(now.date() + dt.timedelta(days=ahead), dt.time(0, 0), now) if ahead else now), 7
    hours = [hour, (hour + 12) % 24] if ambiguous else [hour]
    candidates = []
    for h in hours:
        at = at_clock(start.date(), dt.time(h, minute), now)
        if at <= start:
            at = at_clock(start.date() + dt.timedelta(days=later), dt.time(h, minute), now)
        candidates.append(at)
    when = min(candidates)
    note = ""
    if ambiguous:
        plain = f"{hour}:{minute:02d}" if minute else f"{hour}"
        spoken = plain if minute else f"{hour} o'clock"
        other = "am" if when.hour >= 12 else "pm"
        note = f"the next {spoken} (say “{plain} {other}” for the other one)"
    elif not day and when.date() > now.date() and not _NIGHT.search(str(text).lower()):
        note = f"{when:%H:%M} has already passed today"
    return when, note


# -- the tools ---------------------------------------------------------------------------------


def _seconds(kind: str, hours: float, minutes: float, seconds: float, longest: int) -> int:
    asked = " ".join(f"{v:g} {unit}" for v, unit in ((hours, "hours"), (minutes, "minutes"), (seconds, "seconds")) if v)
    if min(hours, minutes, seconds) < 0:
        raise ToolError(f"A {kind} cannot be set for a negative time ({asked}); give how long, e.g. 10 minutes.")
    total = hours * 3600 + minutes * 60 + seconds
    if total == 0:
        raise ToolError(f"Say how long: for example a {kind} for 10 minutes.")
    if total < 1:
        raise ToolError(f"A {kind} must be at least 1 second away, not {asked}.")
    if total > longest:
        raise ToolError(f"A {kind} of {asked} is out of range; the longest is {duration_words(longest)}.")
    return int(round(total))


def _source(ctx: ToolContext) -> str:
    return getattr(ctx, "source", "") or ""


def _added(ctx: ToolContext, kind: str, due: dt.datetime, label: str) -> dict:
    from assistant.tools import ringer

    timer_id = ctx.store.add_timer(kind, utc_iso(due), label=label, source=_source(ctx), created=utc_iso(ctx.now))
    ringer.ensure_running()
    return ctx.store.timer(timer_id)


def _list(ctx: ToolContext, kind: str, arguments: dict) -> ToolResult:
    rows = ctx.store.timers(status="pending", kind=kind)
    plural = f"{kind}s"
    if not rows:
        text = f"No {plural} are set."
    else:
        text = f"{plural.capitalize()}: " + "; ".join(describe(r, ctx.now, kind=False) for r in rows) + "."
    return ToolResult(
        kind,
        arguments,
        {"action": "list", "timers": [as_json(r, ctx.now) for r in rows]},
        text,
        f"{plural} · {len(rows)} set",
    )


def _a(kind: str) -> str:
    return f"an {kind}" if kind == "alarm" else f"a {kind}"


def _cancel(ctx: ToolContext, kind: str, id: int, label: str, arguments: dict) -> ToolResult:
    pending = ctx.store.timers(status="pending", kind=kind)
    if id:
        row = ctx.store.timer(id)
        if row is not None and row["kind"] != kind:  # one numbering for all three: "reminder 4" may be alarm 4
            raise ToolError(
                f"Number {id} is {_a(row['kind'])}, not {_a(kind)}; say “cancel {row['kind']} {id}” to cancel it."
            )
        if row is None or row["status"] != "pending":
            state = "no" if row is None else f"already {row['status']}"
            raise ToolError(f"{kind.capitalize()} {id} is {state}: `apprentice timers` lists those set.")
    elif label:
        want = label.strip().lower()
        matching = [r for r in pending if want in (r["label"] or "").lower()]
        if not matching:
            raise ToolError(f"No {kind} called “{label}” is set; `apprentice timers` lists those set.")
        row = matching[0]
    elif len(pending) == 1:
        row = pending[0]
    elif not pending:
        raise ToolError(f"No {kind} is set, so there is none to cancel.")
    else:
        ids = ", ".join(f"#{r['id']}" for r in pending)
        raise ToolError(f"{len(pending)} {kind}s are set ({ids}); say which one to cancel by its number.")
    if not ctx.store.cancel_timer(row["id"]):  # it rang in the meantime
        raise ToolError(f"{kind.capitalize()} {row['id']} has just rung, so there is nothing left to cancel.")
    from assistant.tools import ringer

    ringer.wake()  # with nothing left pending it ends now, not at its next look
    return ToolResult(
        kind,
        {**arguments, "id": row["id"]},
        {"action": "cancel", "cancelled": as_json(ctx.store.timer(row["id"]), ctx.now)},
        f"{row['kind'].capitalize()} {row['id']} ({what(row, ctx.now)}) cancelled.",
        f"{kind} · cancelled",
    )


# A label that only names the thing itself ("timer", "the countdown") names nothing the user is timing.
_BARE_LABELS = frozenset({"timer", "countdown", "alarm", "reminder"})
# Nor does one made only of a length or a clock time ("minutes", "90 seconds", "5:45"): a small model
# copies those from the request ("Put 7 minutes on a countdown") when the user gave no name.
_LENGTH_ONLY = re.compile(r"(?:[\d:.,]+|(?:sec|second|min|minute|hour|hr)s?|and|for|me|[\s,])+", re.IGNORECASE)


def label_of(text: str) -> str:
    """A timer's or alarm's name as shown and matched: "The laundry." is "laundry", "the bread timer" is
    "bread"; one that only names the timer itself ("timer", "my countdown"), or only a length or a
    time ("minutes", "30 seconds for me", "5:45"), is no name."""
    words = re.sub(r"^(the|my|a|an|our)\s+", "", " ".join(str(text).split()).strip(" .,;:!?"), flags=re.IGNORECASE)
    last = words.rsplit(" ", 1)
    if len(last) == 2 and last[1].lower() in _BARE_LABELS:
        words = last[0]
    return "" if words.lower() in _BARE_LABELS or _LENGTH_ONLY.fullmatch(words) else words


def _timer_ready(minutes: float = 0, seconds: float = 0, hours: float = 0, action: Action = "set", **_) -> None:
    if action == "set":
        _seconds("timer", hours, minutes, seconds, MAX_TIMER_S)


@tool("timer", ready=_timer_ready, needs=("minutes", "seconds", "hours", "action"))
def timer(
    ctx: ToolContext,
    minutes: float = 0,
    seconds: float = 0,
    hours: float = 0,
    label: str = "",
    action: Action = "set",
    id: int = 0,
) -> ToolResult:
    """Set a countdown timer, list the timers, or cancel one.

    Args:
      minutes: how long the timer runs, in minutes
      seconds: how long, in seconds (added to minutes and hours)
      hours: how long, in hours
      label: an optional name, e.g. "tea"
      action: set (the default), list, or cancel
      id: the number of the timer to cancel
    """
    arguments, label = {"action": action}, label_of(label)
    if action == "list":
        return _list(ctx, "timer", arguments)
    if action == "cancel":
        return _cancel(ctx, "timer", id, label, {**arguments, **({"label": label} if label else {})})
    total = _seconds("timer", hours, minutes, seconds, MAX_TIMER_S)
    due = ctx.now + dt.timedelta(seconds=total)
    row = _added(ctx, "timer", due, label)
    name = f"Timer “{label}”" if label else "Timer"
    text = f"{name} set for {duration_words(total)}; it rings at {clock_words(due, ctx.now, seconds=total < 60)}."
    arguments = {**arguments, "seconds": total, **({"label": label} if label else {})}
    return ToolResult(
        "timer", arguments, {"action": "set", **as_json(row, ctx.now)}, text, f"timer · {short_duration(total)}"
    )


# "every day at 8", "weekdays", "on Mondays": a repeat, which nothing here can set
REPEATING = re.compile(
    rf"\b(?:(?:every|each)\s+(?:other\s+)?(?:day|morning|afternoon|evening|night|week|weekday|weekend|month|year|hour|"
    rf"{_DAYS}|\d+\s+(?:minutes|hours|days|weeks))|daily|weekly|monthly|hourly|weekdays|weeknights|weekends|"
    rf"on\s+(?:{_DAYS.replace('|', 's|')}s))\b",
    re.IGNORECASE,
)


def _once(kind: str, *said: str) -> None:
    """ToolError when what was said asks for a repeat: set once, it would look set for good."""
    for words in said:
        if found := REPEATING.search(words or ""):
            raise ToolError(
                f"I can only set {'an' if kind == 'alarm' else 'a'} {kind} that rings once, not one that repeats"
                f" (“{found.group(0)}”); set it for the next time, and again after it rings."
            )


def _alarm_ready(time: str = "", action: Action = "set", **_) -> None:
    if action != "set" or REPEATING.search(time):
        return  # a repeat is the tool's to refuse, in a sentence (`_once`)
    if not time:
        raise ToolError("Say when the alarm should ring, for example 7 am.")
    delay = parse_delay(time)
    if delay is None:
        parse_clock(time)  # a time it cannot read says so
    else:
        _seconds("alarm", 0, 0, delay, MAX_TIMER_S)


@tool("alarm", ready=_alarm_ready, needs=("time", "action"))
def alarm(ctx: ToolContext, time: str = "", label: str = "", action: Action = "set", id: int = 0) -> ToolResult:
    """Set an alarm for the next time the clock shows a time, list the alarms, or cancel one.

    Args:
      time: the clock time as the user says it, e.g. "7 am", "6:45 pm", "19:30" (or a delay, "in 10 minutes")
      label: an optional name, e.g. "wake up"
      action: set (the default), list, or cancel
      id: the number of the alarm to cancel
    """
    arguments, label = {"action": action}, label_of(label)
    if action == "list":
        return _list(ctx, "alarm", arguments)
    if action == "cancel":
        return _cancel(ctx, "alarm", id, label, {**arguments, **({"label": label} if label else {})})
    _once("alarm", time, label)
    delay = parse_delay(time)
    if delay is not None:  # "an alarm in 10 minutes": the clock time that will be then
        due, note = ctx.now + dt.timedelta(seconds=_seconds("alarm", 0, 0, delay, MAX_TIMER_S)), ""
    else:
        due, note = next_clock_time(time, ctx.now)
    row = _added(ctx, "alarm", due, label)
    name = f"Alarm “{label}”" if label else "Alarm"
    text = f"{name} set for {clock_words(due, ctx.now)}" + (
        f": {note}." if note else f"; it rings in {until_words(due, ctx.now)}."
    )
    arguments = {**arguments, "time": f"{due:%H:%M}", **({"label": label} if label else {})}
    return ToolResult("alarm", arguments, {"action": "set", **as_json(row, ctx.now)}, text, f"alarm · {due:%H:%M}")


def _reminder_ready(
    text: str = "",
    minutes: float = 0,
    hours: float = 0,
    seconds: float = 0,
    time: str = "",
    action: Action = "set",
    **_,
) -> None:
    if action != "set" or (text and REPEATING.search(f"{text} {time}")):
        return  # a repeat is the tool's to refuse, in a sentence (`_once`)
    if not text:
        raise ToolError("Say what to remind you of, for example: remind me to call mum in 20 minutes.")
    given = parse_delay(time) if time else None
    if time and (hours or minutes or seconds):
        raise ToolError("Give the reminder either a time or a delay, not both.")
    if given is not None:  # a delay given as the time: "in 20 minutes"
        _seconds("reminder", 0, 0, given, MAX_REMINDER_S)
    elif time:
        parse_clock(time)  # a time it cannot read says so
    elif hours or minutes or seconds:
        _seconds("reminder", hours, minutes, seconds, MAX_REMINDER_S)
    else:
        raise ToolError("Say when to remind you: at a time (5 pm) or after a delay (in 20 minutes).")


@tool("reminder", ready=_reminder_ready, needs=("minutes", "hours", "seconds", "time", "action"))
def reminder(
    ctx: ToolContext,
    text: str = "",
    minutes: float = 0,
    hours: float = 0,
    seconds: float = 0,
    time: str = "",
    action: Action = "set",
    id: int = 0,
) -> ToolResult:
    """Remind the user of something after a delay or at a clock time, list the reminders, or cancel one.

    Args:
      text: what to remind of, e.g. "call mum"
      minutes: remind after this many minutes
      hours: remind after this many hours
      seconds: remind after this many seconds
      time: or remind at this clock time, as the user says it, e.g. "5 pm", "17:00" (or a delay, "in 2 days")
      action: set (the default), list, or cancel
      id: the number of the reminder to cancel
    """
    arguments = {"action": action}
    if action == "list":
        return _list(ctx, "reminder", arguments)
    if action == "cancel":
        return _cancel(ctx, "reminder", id, text, {**arguments, **({"text": text} if text else {})})
    _once("reminder", text, time)
    given = parse_delay(time) if time else None
    if given is not None:  # a delay given as the time: "in 20 minutes"
        time, seconds = "", given
    note = ""
    if time:
        due, note = next_clock_time(time, ctx.now)
        arguments["time"] = f"{due:%H:%M}"
    else:
        total = _seconds("reminder", hours, minutes, seconds, MAX_REMINDER_S)
        due = ctx.now + dt.timedelta(seconds=total)
        arguments["seconds"] = total
    row = _added(ctx, "reminder", due, text)
    when = clock_words(due, ctx.now, seconds=(due - ctx.now).total_seconds() < 60)
    answer = f"Reminder set: “{text}” at {when}" + (f": {note}." if note else f", in {until_words(due, ctx.now)}.")
    return ToolResult(
        "reminder",
        {**arguments, "text": text},
        {"action": "set", **as_json(row, ctx.now)},
        answer,
        f"reminder · {in_zone(due, ctx.now):%H:%M}",
    )


def main(argv: list[str]) -> int:
    now = dt.datetime.now().astimezone()
    try:
        when, why = next_clock_time(" ".join(argv) or "7", now)
    except ToolError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"{when:%Y-%m-%d %H:%M %Z}" + (f": {why}" if why else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
