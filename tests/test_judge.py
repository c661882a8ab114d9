"""The judge on tool calls: two calls agree when they mean the same action, whichever way the
arguments are written; a student's computing call against words is judged by what it shows; any
other call never agrees with text, and judging never runs a tool that acts."""

import datetime as dt

import pytest

from assistant.judge import judge, judge_calls
from assistant.tools.calls import ToolCall, format_call

TODAY = dt.date(2026, 11, 30)


def same(a: ToolCall, b: ToolCall) -> bool:
    return judge_calls(a, b, today=TODAY).agree


@pytest.mark.parametrize(
    "student, teacher",
    [
        (ToolCall("timer", {"minutes": "10"}), ToolCall("timer", {"minutes": 10})),
        (ToolCall("timer", {"seconds": 600, "action": "set"}), ToolCall("timer", {"minutes": 10.0})),
        (ToolCall("timer", {"hours": 1, "minutes": 30}), ToolCall("timer", {"minutes": 90, "label": ""})),
        (ToolCall("alarm", {"time": "7 am"}), ToolCall("alarm", {"time": "07:00"})),
        (ToolCall("alarm", {"time": "7:00 a.m."}), ToolCall("alarm", {"time": "at 7 am"})),
        (ToolCall("alarm", {"time": "19:30"}), ToolCall("alarm", {"time": "7:30 pm"})),
        (ToolCall("alarm", {"time": "at 7"}), ToolCall("alarm", {"time": "7 o'clock"})),
        (
            ToolCall("reminder", {"text": "Call mum.", "minutes": 20}),
            ToolCall("reminder", {"text": "call Mum", "seconds": 1200}),
        ),
        (
            ToolCall("reminder", {"text": "call mum", "time": "5 pm"}),
            ToolCall("reminder", {"text": "call mum", "time": "17:00"}),
        ),
        (ToolCall("calculate", {"expression": "17 times 23"}), ToolCall("calculate", {"expression": "23 * 17"})),
        (ToolCall("calculate", {"expression": "15% of 80"}), ToolCall("calculate", {"expression": "0.15*80"})),
        (
            ToolCall("convert", {"value": "5", "from_unit": "miles", "to_unit": "km"}),
            ToolCall("convert", {"value": 5.0, "from_unit": "mi", "to_unit": "kilometers"}),
        ),
        (
            ToolCall("convert", {"value": 100, "from_unit": "°F", "to_unit": "C"}),
            ToolCall("convert", {"value": 100, "from_unit": "fahrenheit", "to_unit": "celsius"}),
        ),
        (ToolCall("clock", {"place": "Tokyo"}), ToolCall("clock", {"place": "Asia/Tokyo"})),
        (ToolCall("clock", {"date": "December 25"}), ToolCall("clock", {"date": "2026-12-25"})),
        (ToolCall("clock", {}), ToolCall("clock", {"place": None})),
        # today's date alone is the time and date now; a label is a name, not the timer's own word
        (ToolCall("clock", {"date": "today"}), ToolCall("clock", {})),
        (ToolCall("clock", {"to_date": "today"}), ToolCall("clock", {})),  # as are the days until today
        (ToolCall("clock", {"place": "Today"}), ToolCall("clock", {})),  # and a place that names none
        (ToolCall("timer", {"minutes": 3, "label": "timer"}), ToolCall("timer", {"minutes": 3})),
        (
            ToolCall("timer", {"minutes": 3, "label": "The laundry"}),
            ToolCall("timer", {"minutes": 3, "label": "laundry"}),
        ),
        (ToolCall("alarm", {"time": "8:45 pm, please"}), ToolCall("alarm", {"time": "20:45"})),
        (
            ToolCall("reminder", {"text": "laundry", "minutes": 50}),
            ToolCall("reminder", {"text": "The laundry", "minutes": 50}),
        ),
        # a day counted on is the day it lands on
        (ToolCall("clock", {"date": "Sunday", "days": 1}), ToolCall("clock", {"date": "Saturday", "days": 2})),
        # notes are found by the words they hold: "the garage" finds what "garage" finds
        (ToolCall("note", {"find": "the garage"}), ToolCall("note", {"find": "garage"})),
    ],
)
def test_calls_that_mean_the_same_agree(student, teacher):
    verdict = judge_calls(student, teacher, today=TODAY)
    assert verdict.agree and verdict.similarity == 1.0, verdict.reason


@pytest.mark.parametrize(
    "student, teacher, reason",
    [
        (ToolCall("timer", {"minutes": 5}), ToolCall("timer", {"minutes": 6}), "differ in seconds: 300 vs 360"),
        (ToolCall("timer", {"minutes": 5}), ToolCall("alarm", {"time": "5"}), "called timer, the teacher alarm"),
        # "7:00" is the next seven o'clock, morning or evening: not the same call as "7 am"
        (ToolCall("alarm", {"time": "7:00"}), ToolCall("alarm", {"time": "7 am"}), "differ in time"),
        (ToolCall("alarm", {"time": "7 pm"}), ToolCall("alarm", {"time": "7 am"}), "differ in time"),
        (ToolCall("calculate", {"expression": "17 * 23"}), ToolCall("calculate", {"expression": "17 + 23"}), "differ"),
        (
            ToolCall("convert", {"value": 5, "from_unit": "miles", "to_unit": "m"}),
            ToolCall("convert", {"value": 5, "from_unit": "miles", "to_unit": "km"}),
            "to_unit",
        ),
        (ToolCall("clock", {"place": "Tokyo"}), ToolCall("clock", {"place": "Paris"}), "place"),
        (ToolCall("clock", {"date": "Sunday"}), ToolCall("clock", {"date": "Sunday", "days": 1}), "date"),
        (ToolCall("timer", {"minutes": 10, "label": "tea"}), ToolCall("timer", {"minutes": 10}), "label"),
        (
            ToolCall("reminder", {"text": "the laundry", "minutes": 50}),
            ToolCall("reminder", {"text": "the washing up", "minutes": 50}),
            "text",
        ),
        (ToolCall("note", {"find": "wifi"}), ToolCall("note", {"find": "wifi password"}), "find"),
    ],
)
def test_calls_that_differ_disagree_and_say_where(student, teacher, reason):
    verdict = judge_calls(student, teacher, today=TODAY)
    assert not verdict.agree and verdict.similarity == 0.0
    assert reason in verdict.reason


@pytest.mark.parametrize(
    "student, said",
    [
        (ToolCall("timer", {"minutes": -5}), "negative time"),
        (ToolCall("timer", {"hours": 87600}), "out of range"),
        (ToolCall("timer", {"minutes": "ten"}), "must be a number"),
        (ToolCall("timer", {"minutes": 5, "colour": "red"}), "has no argument 'colour'"),
        (ToolCall("shell", {"command": "rm -rf ~"}), "called shell"),
    ],
)
def test_a_call_that_would_not_run_is_wrong_even_with_the_same_name(student, said):
    verdict = judge_calls(student, ToolCall("timer", {"minutes": 5}), today=TODAY)
    assert not verdict.agree and said in verdict.reason


def test_the_judge_reads_calls_in_text_as_the_core_does():
    teacher = format_call(ToolCall("timer", {"minutes": 10}))
    student = "Sure! <tool_call>{'name': 'timer', 'arguments': {'minutes': '10',},}</tool_call>"
    verdict = judge(student, teacher)
    assert verdict.agree and verdict.reason == "the same timer call"
    assert judge(ToolCall("timer", {"seconds": 600}), teacher).agree
    assert judge('{"name": "timer", "arguments": {"minutes": 10}}', ToolCall("timer", {"minutes": 10})).agree


def test_json_that_names_no_tool_is_an_answer_not_a_call():
    verdict = judge('{"name": "Ada Lovelace", "born": 1815}', '{"name": "Ada Lovelace", "born": 1815}')
    assert verdict.agree and "call" not in verdict.reason


def test_text_against_a_call_and_an_acting_call_against_text_never_agree():
    call = format_call(ToolCall("calculate", {"expression": "17 * 23"}))
    # a right text answer against the teacher's call: whether it says what the call would is the benchmark's business
    verdict = judge("17 times 23 is 391.", call)
    assert not verdict.agree and verdict.reason == "the teacher called calculate; the student answered with text"
    verdict = judge(format_call(ToolCall("timer", {"minutes": 4})), "Timer set for 4 minutes.")
    assert not verdict.agree and verdict.reason == "the student called timer; the teacher answered with text"
    verdict = judge("<tool_call>{'name': 'calc", call)
    assert not verdict.agree and "cannot be read" in verdict.reason


@pytest.mark.parametrize(
    "student, teacher, agree, reason",
    [
        # the tool's result adds dates of its own; the teacher's names and numbers are what count
        (ToolCall("clock", {"date": "Saturday", "days": 4}), "4 days after Saturday is Wednesday.", True, "every"),
        (ToolCall("clock", {"date": "Wednesday", "days": 2}), "Friday", True, "shows the teacher's short"),
        (ToolCall("clock", {"date": "Sunday", "days": 3}), "The day after Sunday is Monday.", False, "monday"),
        (ToolCall("calculate", {"expression": "17*23"}), "391", True, "short answer"),
        (ToolCall("calculate", {"expression": "17*23"}), "17 times 23 is 391.", True, "every"),
        (ToolCall("calculate", {"expression": "17+23"}), "17 times 23 is 391.", False, "391"),
        (ToolCall("calculate", {"expression": "1000+200"}), "That comes to 1,200 in all.", True, "every"),
        # 13.1234 ft says 13.12 ft; the same numbers the other way round do not
        (
            ToolCall("convert", {"value": 4, "from_unit": "m", "to_unit": "ft"}),
            "4 meters is 13.12 feet.",
            True,
            "every",
        ),
        (
            ToolCall("convert", {"value": 4, "from_unit": "ft", "to_unit": "m"}),
            "4 meters is 13.12 feet.",
            False,
            "13.12",
        ),
        (
            ToolCall("convert", {"value": 25, "from_unit": "C", "to_unit": "F"}),
            "25 degrees Celsius is 77 degrees Fahrenheit.",
            True,
            "every",
        ),
        # a call that would not run shows nothing: judged as a call against text
        (ToolCall("clock", {"date": "Mars"}), "Tuesday", False, "the student called clock"),
    ],
)
def test_a_computing_call_against_words_is_judged_by_what_it_shows(student, teacher, agree, reason):
    verdict = judge(format_call(student), teacher)
    assert verdict.agree is agree and reason in verdict.reason.lower()


def test_the_gate_checks_a_computing_call_by_what_it_shows():
    from model.evaluate import Item, score

    asked = Item([{"role": "user", "content": "What is 17 times 23?"}], "391")  # a bare number: the `number` check
    assert score(format_call(ToolCall("calculate", {"expression": "17 * 23"})), asked).right
    assert not score(format_call(ToolCall("calculate", {"expression": "17 + 23"})), asked).right
    # a call is scored as it runs for the query: a quantity the calculator cannot read runs as the conversion
    asked = Item([{"role": "user", "content": "How many cups is 500 ml?"}], "2.11")
    assert score(format_call(ToolCall("calculate", {"expression": "500 ml"})), asked).right
    assert not score(format_call(ToolCall("calculate", {"expression": "500 + 1"})), asked).right


@pytest.mark.parametrize(
    "query, student, teacher",
    [
        ("Take 19 away from 50.", ToolCall("calculate", {"expression": "19 - 50"}), "31"),
        ("How many cups is 500 ml?", ToolCall("calculate", {"expression": "500 ml"}), "500 ml is about 2.11 cups."),
        (
            "Wake me at 6:10 tomorrow morning",
            ToolCall("alarm", {"time": "6:10"}),
            ToolCall("alarm", {"time": "6:10 am"}),
        ),
    ],
)
def test_given_the_query_the_judge_takes_a_call_as_it_runs(query, student, teacher):
    # as written, each is wrong; as the tool runs it for what the user said, each is the teacher's answer,
    # so the router does not learn to send such queries on for an answer the user got right
    for answer in (student, format_call(student)):
        assert not judge(answer, teacher).agree
        assert judge(answer, teacher, query=query).agree


def test_judging_timer_calls_sets_no_timer(home):
    for _ in range(3):
        assert judge(format_call(ToolCall("timer", {"seconds": 1})), ToolCall("timer", {"seconds": 1})).agree
        assert same(ToolCall("alarm", {"time": "7 am"}), ToolCall("alarm", {"time": "07:00"}))
    # no store was opened and no ringer started: nothing was written under the home at all
    assert not home.exists() or not any(home.rglob("*"))
