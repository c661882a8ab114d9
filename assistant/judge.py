"""One judging function: does the student's answer agree with the teacher's?

The router learns from it (a query the student got wrong sends similar ones to the
teacher) and distillation evaluates with it, so both mean the same by "wrong".
Two signals: embedding similarity of the two answers, and, where the teacher's answer
is short enough to be a fact ("Paris", "42"), whether the student's answer contains it.

An answer that is a tool call (a `ToolCall`, or text holding a `<tool_call>`) is judged as a
call: two calls agree when they name the same tool with the same arguments once both are
normalized (10 == "10", "7 am" == "07:00", 90 seconds == 1.5 minutes, "km" == "kilometers",
"17 times 23" == "23*17"), through `assistant.tools.validate` and the tools' own readers. Given the
query, the student's call is first set as the tool runs it for that query (`as_said`).

A student's call to a computing tool (clock, calculate, convert: they change nothing) against a
teacher's answer in words is judged by what the call shows, run now (`shown`): "4 days after
Saturday, 5 December 2026 is Wednesday, 9 December 2026." agrees with "4 days after Saturday is
Wednesday." when it holds every name and number the teacher gave (a tool's result adds dates and
digits of its own, so those do not count against it). Choosing the tool is what a small student
can learn; judging it wrong for that would teach the router and the promotion gate that a right
answer was wrong. Any other call and a text answer never agree (a text answer against a teacher's
call: whether it says what the call would is the benchmark's business), and an acting call never
runs here: no timer is set to judge one.

    python -m assistant.judge "student answer" "teacher answer"
    python -m assistant.judge '<tool_call>{"name": "timer", "arguments": {"seconds": 600}}</tool_call>' \
        '<tool_call>{"name": "timer", "arguments": {"minutes": "10"}}</tool_call>'
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.embedder import Embedder, shared
from assistant.tools.calls import ToolCall, has_call, parse_call

if TYPE_CHECKING:
    from assistant.tools import ToolResult

AGREE_SIMILARITY = 0.75  # cosine similarity of the answers' embeddings
SHORT_ANSWER_WORDS = 4
FACT_ANSWER_WORDS = 20  # up to this long, an answer's numbers and names must be matched too


@dataclass(frozen=True)
class Verdict:
    agree: bool
    similarity: float
    reason: str


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def contains_reference(answer: str, reference: str) -> bool:
    """True when every word of a short reference appears, in order, in the answer; a number the
    reference gives without a sign must appear so ("19 − 50 = −31" does not say "31")."""
    ref, ans = _words(reference), " ".join(_words(answer))
    if not ref or re.search(r"\b" + r"\W+".join(map(re.escape, ref)) + r"\b", ans) is None:
        return False
    number = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*\.?\s*", reference)
    return number is None or re.search(rf"(?<![-−\w.,]){re.escape(number[1])}(?!\w)", answer) is not None


def numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:[.,]\d+)?", text))


SENTENCE_STARTERS = {
    "The",
    "A",
    "An",
    "It",
    "Its",
    "This",
    "That",
    "There",
    "These",
    "Those",
    "In",
    "At",
    "On",
    "Yes",
    "No",
    "Sure",
    "Of",
    "To",
    "For",
    "As",
    "I",
    "You",
    "We",
    "They",
    "He",
    "She",
}


def names(text: str) -> set[str]:
    """Capitalised words, but for the usual sentence starters: the names an answer asserts."""
    return {w.lower() for w in re.findall(r"\b[A-Z][a-zA-Z]+", text) if w not in SENTENCE_STARTERS}


def judge(
    student: str | ToolCall,
    teacher: str | ToolCall,
    *,
    query: str | None = None,
    embedder: Embedder | None = None,
    agree_similarity: float = AGREE_SIMILARITY,
) -> Verdict:
    """Whether the student's answer says what the teacher's does. Given the `query`, a student's call is
    judged as the tool runs it for that query (`as_run`), as the user got it."""
    if query:
        from assistant.tools.as_said import as_said

        student = as_said(query, student) if isinstance(student, ToolCall) else as_run(student, query)
    if any(as_call(answer) is not None or has_call(answer) for answer in (student, teacher)):
        theirs_in_words = as_call(teacher) is None and not has_call(teacher)
        result = shown(student) if theirs_in_words else None
        if result is not None:
            return judge_shown(result, teacher, embedder=embedder, agree_similarity=agree_similarity)
        return judge_calls(student, teacher)
    student, teacher = student.strip(), teacher.strip()
    if not student:
        return Verdict(False, 0.0, "the student gave no answer")
    a, b = (embedder or shared()).encode([student, teacher])
    similarity = float(a @ b)
    if len(_words(teacher)) <= SHORT_ANSWER_WORDS:
        agree = contains_reference(student, teacher)
        return Verdict(
            agree, similarity, "contains the teacher's short answer" if agree else "misses the teacher's short answer"
        )
    agree = similarity >= agree_similarity
    if agree and len(_words(teacher)) <= FACT_ANSWER_WORDS:
        # "3 kg is 1.36 lb" reads much like "3 kg is 6.61 lb", and "Sydney" like "Canberra":
        # similarity alone misses wrong facts. A number the teacher did not give contradicts it;
        # every name the teacher gives must be there, and one of its numbers if it gives any.
        wrong = sorted(numbers(student) - numbers(teacher))
        if wrong:
            return Verdict(False, similarity, f"says {', '.join(wrong[:3])}, which the teacher does not")
        said = student.lower()
        missing = sorted(n for n in names(teacher) if n not in said)
        if missing or (numbers(teacher) and not numbers(teacher) & numbers(student)):
            what = ", ".join(missing[:3]) or ", ".join(sorted(numbers(teacher))[:3])
            return Verdict(False, similarity, f"misses {what} of the teacher's answer")
    return Verdict(agree, similarity, f"similarity {similarity:.2f} {'≥' if agree else '<'} {agree_similarity}")


# -- tool calls ---------------------------------------------------------------------------------


def as_run(text: str, query: str) -> str:
    """An answer whose call is written as the tool runs it for `query` (`as_said`: the name, the task,
    the half of the day the user said, filled in where the call left them out), as `call_doubt` judges
    it and the user gets it; an answer without a call, or one already as said, as it is. A call right
    as it runs but judged as written would count as a wrong answer that passes every check: the router
    would send queries like it on, and one such answer near the top of the held-out list tightens the
    cascade line for every call."""
    from assistant.tools.as_said import as_said
    from assistant.tools.calls import format_call

    call = parse_call(text) if has_call(text) else None
    if call is None or not query:
        return text
    settled = as_said(query, call)
    return text if settled == call else format_call(settled)


def shown(answer: str | ToolCall) -> ToolResult | None:
    """What the computing call an answer makes shows when run now (assistant.tools.trial_run);
    None for an answer without one, a call to a tool that acts, or a call that would not run."""
    from assistant.tools import ToolResult, trial_run

    call = as_call(answer)
    result = trial_run(call.name, call.arguments) if call is not None else None
    return result if isinstance(result, ToolResult) else None


def _value(number: str) -> float:
    """A number as `numbers` finds it: "1,200" is twelve hundred, "1,5" one and a half."""
    return float(number.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", number) else number.replace(",", "."))


def judge_shown(
    result: ToolResult,
    teacher: str,
    *,
    embedder: Embedder | None = None,
    agree_similarity: float = AGREE_SIMILARITY,
) -> Verdict:
    """Whether what a student's computing call showed says what the teacher said in words.

    A short teacher answer ("Wednesday", "391") must appear in it, as for text; a longer one
    must have every name and number it gives there (numbers within 1%: 13.1234 ft says 13.12 ft),
    or, when it gives neither, read alike. The result's own dates and digits do not count against it."""
    said = result.text.strip()
    teacher = teacher.strip()
    a, b = (embedder or shared()).encode([said, teacher])
    similarity = float(a @ b)
    if len(_words(teacher)) <= SHORT_ANSWER_WORDS:
        agree = contains_reference(said, teacher)
        shows = f"its {result.name} call {'shows' if agree else 'does not show'}"
        return Verdict(agree, similarity, f"{shows} the teacher's short answer")
    facts, figures = names(teacher), numbers(teacher)
    if not facts and not figures:
        agree = similarity >= agree_similarity
        return Verdict(agree, similarity, f"its {result.name} call shows an answer of similarity {similarity:.2f}")
    # names may be in the result's data rather than its words: "25 °C = 77 °F" converts degree_Celsius
    lower = " ".join([said, *map(str, result.data.values())]).lower()
    values = [_value(n) for n in numbers(said)]
    missing = sorted(n for n in facts if n not in lower)
    missing += sorted(n for n in figures if not any(math.isclose(_value(n), v, rel_tol=0.01) for v in values))
    if missing:
        gone = ", ".join(missing[:3])
        return Verdict(False, similarity, f"its {result.name} call does not show {gone}, which the teacher gave")
    return Verdict(True, similarity, f"its {result.name} call shows every name and number of the teacher's answer")


def as_call(answer: str | ToolCall) -> ToolCall | None:
    """The call an answer makes: a ToolCall, text with a `<tool_call>`, or a bare call object naming a tool."""
    if isinstance(answer, ToolCall):
        return answer
    call = parse_call(answer)
    if call is None or has_call(answer):
        return call
    from assistant.tools import tools

    # untagged, only a registered tool's name makes it a call: {"name": "Ada", "age": 36} is an answer
    return call if call.name in tools() else None


def judge_calls(student: str | ToolCall, teacher: str | ToolCall, *, today: dt.date | None = None) -> Verdict:
    """Whether the student made the teacher's call: the same tool, the same normalized arguments.

    Either side may be a ToolCall or text; a side without a readable call disagrees with one that has it.
    `today` fixes what relative dates ("tomorrow") mean for both calls alike.
    """
    mine, theirs = as_call(student), as_call(teacher)
    if mine is None or theirs is None:
        if mine is None and theirs is None:
            return Verdict(False, 0.0, "neither answer holds a readable tool call")
        if mine is None:
            said = "a tool call that cannot be read" if has_call(student) else "text"
            return Verdict(False, 0.0, f"the teacher called {theirs.name}; the student answered with {said}")
        return Verdict(False, 0.0, f"the student called {mine.name}; the teacher answered with text")
    if mine.name != theirs.name:
        return Verdict(False, 0.0, f"the student called {mine.name}, the teacher {theirs.name}")
    today = today or dt.date.today()
    from assistant.tools import ToolError

    try:
        reference = call_key(theirs, today)
    except ToolError:  # a teacher's call that would not run: compare what was written
        reference = _loose(theirs.arguments)
    try:
        made = call_key(mine, today)
    except ToolError as exc:
        return Verdict(False, 0.0, f"the student's call would not run: {exc}")
    if made == reference:
        return Verdict(True, 1.0, f"the same {mine.name} call")
    differ = sorted(k for k in set(made) | set(reference) if made.get(k) != reference.get(k))
    shown = "; ".join(f"{k}: {_show(made.get(k))} vs {_show(reference.get(k))}" for k in differ[:3])
    return Verdict(False, 0.0, f"the {mine.name} calls differ in {shown}")


def _show(value: Any) -> str:
    return "unset" if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _loose(arguments: dict) -> dict:
    return {k: _text(v) if isinstance(v, str) else v for k, v in arguments.items() if v not in (None, "")}


def _text(value: str) -> str:
    """Free text (a label, a note, a reminder) as compared: case, spacing and end punctuation do not count."""
    return re.sub(r"[\s.,;:!?]+$", "", " ".join(value.lower().split()))


def call_key(call: ToolCall, today: dt.date) -> dict:
    """A call's arguments in one form per meaning; ToolError when the call would not run.

    validate() coerces types ("10" -> 10) and drops empty values; arguments left at their
    declared default are dropped too, so {"minutes": 10, "action": "set"} is {"minutes": 10}.
    Then each tool's own readers give one form: durations in seconds, clock times as
    (hour, minute), places as IANA zones, dates as ISO dates, units as pint units, arithmetic
    as its exact value. Nothing runs: no store, no timer, no clock.
    """
    from assistant import tools

    clean = tools.validate(call.name, call.arguments)
    found = tools.tools()[call.name]
    key = {k: v for k, v in clean.items() if found.parameters[k].get("default", object()) != v}
    for k, v in key.items():
        if isinstance(v, str):
            key[k] = _text(v)
    normalize = _NORMALIZERS.get(call.name)
    return normalize(call.name, key, clean, today) if normalize else key


def _duration(name: str, key: dict, clean: dict, today: dt.date) -> dict:
    from assistant.tools import timers

    # hours, minutes and seconds are one length of time however it is split; the tool's own
    # range check says whether it could be set (no negative timers, none of ten years)
    parts = [float(clean.get(unit, 0)) for unit in ("hours", "minutes", "seconds")]
    key = {k: v for k, v in key.items() if k not in ("hours", "minutes", "seconds")}
    if any(parts):
        longest = timers.MAX_TIMER_S if name == "timer" else timers.MAX_REMINDER_S
        key["seconds"] = timers._seconds(name, *parts, longest)
    if "time" in key:
        key["time"] = _clock_time(clean["time"])
    if name == "reminder" and "text" in key:
        # what a reminder is for, as the user reads it back: "the laundry" and "laundry" are one reminder
        key["text"] = re.sub(r"^(the|my|a|an|our)\s+", "", key["text"])
    return _label(key)


def _label(key: dict) -> dict:
    """A label as the tool shows it: "the laundry" is "laundry", and "timer" is none."""
    from assistant.tools.timers import label_of

    if "label" in key:
        key["label"] = _text(label_of(key["label"]))
        if not key["label"]:
            del key["label"]
    return key


def _clock_time(text: str) -> Any:
    """ "7 am", "07:00" and "7:00 a.m." as ["at", 7, 0]; "at 7" (either 7) as ["either", 7, 0]; a delay in seconds."""
    from assistant.tools import ToolError
    from assistant.tools.timers import parse_clock, parse_delay

    delay = parse_delay(text)
    if delay is not None:
        return ["in", round(delay, 3)]
    try:
        hour, minute, ambiguous, day = parse_clock(text)
    except ToolError:
        return _text(text)
    return ["either" if ambiguous else "at", hour, minute] + ([day] if day else [])


def _alarm(name: str, key: dict, clean: dict, today: dt.date) -> dict:
    if "time" in key:
        key["time"] = _clock_time(clean["time"])
    return _label(key)


def _clock(name: str, key: dict, clean: dict, today: dt.date) -> dict:
    from assistant.tools import ToolError
    from assistant.tools.clock import HERE, find_zone, parse_date

    if key.get("place") in HERE:
        del key["place"]  # a place that names none is here (the clock tool)
    if "place" in key:
        try:
            key["place"] = find_zone(clean["place"])
        except ToolError:
            pass  # an unknown place is compared as written
    for name in ("date", "to_date"):
        if name in key:
            try:
                key[name] = parse_date(clean[name], today).isoformat()
            except ToolError:
                pass
    if key.get("date") == today.isoformat() and "to_date" not in key and "days" not in key:
        del key["date"]  # today's date alone is answered as the time and date now (the clock tool)
    if key.get("to_date") == today.isoformat() and "date" not in key and "days" not in key:
        del key["to_date"]  # and so are the days until today
    if "days" in key and "to_date" not in key:
        # a day counted on is the day it lands on: Sunday + 1 and Monday are one answer
        try:
            start = parse_date(clean["date"], today) if "date" in clean else today
            key["date"] = (start + dt.timedelta(days=key.pop("days"))).isoformat()
        except (ToolError, OverflowError):
            pass
    return key


def _calculate(name: str, key: dict, clean: dict, today: dt.date) -> dict:
    from assistant.tools import ToolError
    from assistant.tools.calculate import evaluate

    try:
        _, value = evaluate(clean["expression"])
    except ToolError:
        return key  # an expression that cannot be computed is compared as written
    # the same value is the same answer, whichever way the arithmetic was written
    key["expression"] = str(value) if not isinstance(value, float) else repr(round(value, 12))
    return key


def _convert(name: str, key: dict, clean: dict, today: dt.date) -> dict:
    from assistant.tools import ToolError
    from assistant.tools.convert import _unit, registry

    for name in ("from_unit", "to_unit"):
        if name in key:
            try:
                key[name] = str(_unit(registry(), clean[name]))
            except ToolError:
                pass  # a unit pint does not know is compared as written
    return key


def _note(name: str, key: dict, clean: dict, today: dt.date) -> dict:
    from assistant.tools.note import search_words

    if "find" in key:  # what the tool searches for: "the garage" and "garage" find the same notes
        key["find"] = " ".join(search_words(clean["find"]))
    return key


_NORMALIZERS = {
    "timer": _duration,
    "reminder": _duration,
    "alarm": _alarm,
    "clock": _clock,
    "calculate": _calculate,
    "convert": _convert,
    "note": _note,
}


if __name__ == "__main__":
    print(judge(sys.argv[1], sys.argv[2]))
