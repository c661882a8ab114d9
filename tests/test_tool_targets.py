"""A teacher's sentence that a tool reproduces is taught as the call that computes it."""

from __future__ import annotations

import json

import pytest

from assistant.tools.calls import parse_call
from model.dataset import Dataset, Example
from model.distill.tool_targets import agrees, target, targets


def taught(answer: str) -> tuple[str, dict] | None:
    call = target(answer)
    if call is None:
        return None
    parsed = parse_call(call)
    return parsed.name, parsed.arguments


@pytest.mark.parametrize(
    ("answer", "call"),
    [
        ("44 ÷ 4 = 11.", ("calculate", {"expression": "44 ÷ 4"})),
        ("17 × 23 = 391", ("calculate", {"expression": "17 × 23"})),
        ("50% of 400 is 200.", ("calculate", {"expression": "50% of 400"})),
        ("4 meters is 13.12 feet.", ("convert", {"value": 4, "from_unit": "meters", "to_unit": "feet"})),
        (
            "86 degrees Fahrenheit is 30 degrees Celsius.",
            ("convert", {"value": 86, "from_unit": "degrees Fahrenheit", "to_unit": "degrees Celsius"}),
        ),
        (
            "2.5 kilometers is about 1.55 miles.",
            ("convert", {"value": 2.5, "from_unit": "kilometers", "to_unit": "miles"}),
        ),
        ("The day after Sunday is Monday.", ("clock", {"date": "Sunday", "days": 1})),
        ("The day before Wednesday is Tuesday.", ("clock", {"date": "Wednesday", "days": -1})),
        ("3 days after Saturday is Tuesday.", ("clock", {"date": "Saturday", "days": 3})),
        ("Thursday comes just before Friday.", ("clock", {"date": "Friday", "days": -1})),
        # a month's length, neighbour or place in the year: the clock's answer for the month says it
        ("April has 30 days.", ("clock", {"date": "April"})),
        ("In a leap year February has 29 days.", ("clock", {"date": "February"})),
        ("January comes after December.", ("clock", {"date": "December"})),
        ("April follows March.", ("clock", {"date": "March"})),
        ("The month before March is February.", ("clock", {"date": "March"})),
        ("The sixth month of the year is June.", ("clock", {"date": "sixth month"})),
        ("December is the last month of the year.", ("clock", {"date": "last month of the year"})),
        ("The eleventh month of the year is the month of November.", ("clock", {"date": "eleventh month"})),
        ("Two days before Wednesday is Monday.", ("clock", {"date": "Wednesday", "days": -2})),
        ("Five months after September is February.", ("clock", {"date": "September", "months": 5})),
        ("Three months on from October is January.", ("clock", {"date": "October", "months": 3})),
        ("2 months before March is January.", ("clock", {"date": "March", "months": -2})),
        ("40 feet is equal to 12.19 meters.", ("convert", {"value": 40, "from_unit": "feet", "to_unit": "meters"})),
    ],
)
def test_a_sentence_the_tool_reproduces_is_taught_as_its_call(answer, call):
    assert taught(answer) == call


@pytest.mark.parametrize(
    "answer",
    [
        "17 × 23 = 317.",  # the teacher's number is not what the tool shows: its words are kept
        "5 kilometers is 4 miles.",
        "1 liter is 1 kilogram.",  # a volume is no mass: the tool refuses, and the words are kept
        "Paris is the capital of France.",
        "There are 7 days in a week.",
        "The answer is 42.",
        "3 days after Saturday is Wednesday.",  # the clock counts Tuesday: the words are kept
        "April has 31 days.",  # the calendar says 30
        "The sixth month of the year is July.",
        "March comes after January.",
        "Five months after September is March.",  # the calendar says February
        "The day after tomorrow is Thursday.",  # depends on today: only weekdays are counted
        "17 × 23 = 391. That is a prime times a prime.",  # more than the sentence: the words are kept
        "200 quarter = 200 quarter",  # a unit said to be itself claims nothing
        "First: 2 + 2 = 4\nThen 4 + 4 = 8",
        '<tool_call>{"name": "calculate", "arguments": {"expression": "2 + 2"}}</tool_call>',
        "",
    ],
)
def test_anything_else_is_taught_as_the_teacher_said_it(answer):
    assert target(answer) is None


@pytest.mark.parametrize(
    ("query", "answer", "call"),
    [
        ("If today is Saturday, what day is it tomorrow?", "Tomorrow is Sunday.", {"date": "Saturday", "days": 1}),
        (
            "If today is Thursday, what day is it the day after tomorrow?",
            "It will be Saturday.",
            {"date": "Thursday", "days": 2},
        ),
        ("Suppose today is Monday. What day was yesterday?", "Yesterday was Sunday.", {"date": "Monday", "days": -1}),
        (
            "Say it's Thursday today. What day will it be 4 days from now?",
            "It will be Monday.",
            {"date": "Thursday", "days": 4},
        ),
        (
            "If today is Monday, what day will it be in ten days?",
            "It will be Thursday.",
            {"date": "Monday", "days": 10},
        ),
        # yesterday's weekday supposed: tomorrow is two days on from it
        ("If yesterday was Tuesday, what day is tomorrow?", "Tomorrow is Thursday.", {"date": "Tuesday", "days": 2}),
        ("What day is it six days after a Monday?", "It is a Sunday.", {"date": "Monday", "days": 6}),
        ("Four days before a Wednesday is which day?", "Saturday.", {"date": "Wednesday", "days": -4}),
        ("If today is Thursday, what day is it the day after tomorrow?", "It will be Sunday.", None),  # wrong: words
        ("What day is it tomorrow?", "Tomorrow is Sunday.", None),  # today's own: the clock's, not counting
    ],
)
def test_a_day_counted_on_from_one_the_user_supposes_is_taught_as_the_clock_call(query, answer, call):
    from model.distill.tool_targets import supposed_target

    taught_now = supposed_target(query, answer)
    assert (parse_call(taught_now).arguments if taught_now else None) == call


def test_a_number_agrees_when_it_is_the_tools_rounded_to_the_teachers_precision():
    assert agrees(13.123359, "13.12") and agrees(0.4536, "0.45") and agrees(1200.0, "1,200")
    assert agrees(40.2336, "40.2") and agrees(6.604, "6.6")
    assert not agrees(13.1234, "13.2") and not agrees(391.0, "317")


def test_the_rows_teach_the_call_in_place_of_the_words_and_the_held_out_split_keeps_its_reference():
    def ex(i, query, answer):
        return Example(i, [{"role": "user", "content": query}], answer, "ask", "2026-12-01", query)

    train = [ex(1, "What is 17 times 23?", "17 × 23 = 391."), ex(2, "Capital of France?", "Paris.")]
    heldout = [ex(3, "How many feet is 4 meters?", "4 meters is 13.12 feet.")]
    ds = Dataset(train, heldout)
    taught_now = targets(ds.examples)
    assert set(taught_now) == {1, 3}

    rows = ds.rows("train", "system", targets=taught_now)
    said = [row["messages"][-1]["content"] for row in rows]
    assert parse_call(said[0]).arguments == {"expression": "17 × 23"} and said[1] == "Paris."
    assert [r["messages"][-1]["content"] for r in ds.rows("train", "system")] == ["17 × 23 = 391.", "Paris."]
    assert json.loads(json.dumps(rows))  # mlx-lm's JSONL
    assert ds.heldout[0].answer == "4 meters is 13.12 feet."  # the gate scores the call by what it shows


def test_a_distillation_teaches_the_call_only_to_a_student_told_the_tools(tiny_student, monkeypatch):
    from assistant import config
    from assistant.models import registry
    from assistant.store import Store
    from model import dataset
    from model.distill.options import Options, parser
    from model.distill.training import prepare, read_jsonl
    from tests.test_distill import FAST, log_example

    store = Store()
    log_example(store, "What is 17 times 23?", "17 × 23 = 391.")
    log_example(store, "How many feet is 4 meters?", "4 meters is 13.12 feet.")
    log_example(store, "Who wrote Hamlet?", "Shakespeare wrote Hamlet.")
    ds = dataset.build(store, heldout_fraction=0, include_shipped_test=False)
    flags = FAST + ["--heldout-fraction", "0", "--batch-size", "1", "--replay", "0"]

    def taught_answers(*extra: str) -> tuple[list[str], int]:
        settings = config.load()
        opts = Options.from_flags(parser().parse_args(flags + list(extra)), settings)
        folder, state = prepare(ds, registry.active(), opts, settings, [], store=store)
        return [r["messages"][-1]["content"] for r in read_jsonl(folder / "train.jsonl")], state.dataset["tool_targets"]

    monkeypatch.setenv("APPRENTICE_STUDENT_TOOLS", "1")
    answers, count = taught_answers()
    calls = [parse_call(a) for a in answers if parse_call(a)]
    assert count == 2 and {c.name for c in calls} == {"calculate", "convert"}
    assert "Shakespeare wrote Hamlet." in answers and "17 × 23 = 391." not in answers

    answers, count = taught_answers("--no-tool-targets")
    assert count == 0 and "17 × 23 = 391." in answers and not any(parse_call(a) for a in answers)

    monkeypatch.setenv("APPRENTICE_STUDENT_TOOLS", "0")  # a student that only talks is taught the words
    answers, count = taught_answers()
    assert count == 0 and "4 meters is 13.12 feet." in answers
