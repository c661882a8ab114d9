"""A sentence's claims about the calendar, arithmetic and units, checked without a model."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.tools.claims import contradiction, sentence_doubt


@pytest.mark.parametrize(
    "said, truth",
    [
        ("The day after Tuesday is Friday.", "the calendar says Wednesday"),
        ("The day before Friday is Saturday.", "the calendar says Thursday"),
        ("Three days after Saturday will be a Wednesday.", "the calendar says Tuesday"),
        ("Sunday comes after Tuesday.", "the calendar says Wednesday comes after Tuesday"),
        ("The month after February is December.", "the calendar says March"),
        ("5 months after September is December.", "the calendar says February"),
        ("Two months before March is February.", "the calendar says January"),
        ("The sixth month of the year is the month of January.", "the calendar says June"),
        ("March is the second month of the year.", "the calendar says it is month 3"),
        ("There are 31 days in April.", "the calendar says April has 30 days"),
        ("February has 30 days.", "the calendar says February has 28 or 29 days"),
        ("12 × 4 = 46.", "it is 48"),
        ("So 17 times 23 is 317.", "it is 391"),
        ("5 miles is 3 kilometers.", "it is 8.047 kilometers"),
        ("The square root of 676 is 3.", "it is 26"),
        ("So 10% of 120 is 14.", "it is 12"),
        ("When you add 467 and 10, you get 470.", "it is 477"),
        ("You can multiply 20 by 120, which is 240.", "it is 2400"),
    ],
)
def test_a_claim_shown_false_says_what_is_so(said, truth):
    reason = contradiction(said)
    assert reason is not None and reason.startswith("its answer says “") and reason.endswith(truth)


@pytest.mark.parametrize(
    "said",
    [
        "The day after Sunday is Monday.",
        "3 days after Saturday is Tuesday.",
        "Monday comes after Sunday.",
        "The month after December is January.",
        "Five months after September is February.",
        "Three months from October is January.",
        "December is the twelfth month.",
        "February has 29 days in a leap year.",
        "17 times 23 is 391.",
        "10 / 3 = 3.33",
        "5 miles is 8.05 kilometers.",
        "The square root of 676 is 26.",
        "10% of 120 is 0.10 * 120 = 12.",
        "To find 50% of 400, you can multiply 400 by 0.5, which is 200.",
        "1/9 is 0.111111111111",
        "1 mile is about 1.6 km.",
        "100 degrees Fahrenheit is 37.8 degrees Celsius.",
        # no claim read here: left to the cascade line
        "The capital of Denmark is Oslo.",
        "2 gigabytes are equivalent to 2^32 megabytes.",
        "2 + 3 * 4 = 14",
        "The day after Christmas is Boxing Day.",
        '<tool_call>{"name": "calculate", "arguments": {"expression": "12 * 4"}}</tool_call> 12 × 4 = 46',
        "",
    ],
)
def test_a_right_claim_or_one_not_read_here_is_never_doubted(said):
    assert contradiction(said) is None


def test_a_request_said_back_or_words_over_and_over_say_nothing():
    query = "Remind me to call mum in 60 minutes."
    assert sentence_doubt(query, "Remind me to call mum in 60 minutes") == "its answer only says your request back"
    assert sentence_doubt(query, "I'll remind you to call mum in 60 minutes.") is None
    assert (
        sentence_doubt("Why?", "I'm sorry, I'm sorry, I'm sorry, I'm")
        == "its answer repeats “I'm sorry,” over and over"
    )
    assert sentence_doubt("?", "752 - 2 = 752 - 2 = 752 - 2 = 752").startswith("its answer repeats")
    assert sentence_doubt("?", "There are 7 continents: Africa, Antarctica, Antarctica, Asia.") is None
    assert sentence_doubt("?", "The day after Tuesday is Friday.").endswith("the calendar says Wednesday")
    # a thing said to equal itself computes nothing ("Half of 90 is what?")
    assert sentence_doubt("Half of 90 is what?", "90 = 90") == "its answer only says “90” is itself"
    assert sentence_doubt("What is a quarter of 200?", "200 quarter = 200 quarter.") is not None
    assert sentence_doubt("Half of 90 is what?", "90 ÷ 2 = 45") is None


@pytest.mark.parametrize(
    "query, said",
    [
        ("hey who painted the mona lisa", "Noted: the mona lisa"),
        ("Triple 12 for me.", "Noted: triple 12 for me"),
        ("Pasta's on, eleven minutes please.", "Timer “pasta” set for 11 minutes; it rings at 18:41."),
        ("wake me at half six", "Alarm set for 06:30; it rings in 9 hours."),
        ("remind me to call Sam at 5", "Reminder set: “call Sam” at 17:00, in 2 hours."),
    ],
)
def test_a_tools_report_said_in_words_where_no_call_ran_cannot_stand(query, said):
    """The user would believe it: a note saved, a timer running; nothing was."""
    assert sentence_doubt(query, said).endswith("in words, but no tool ran: nothing was saved or set")


@pytest.mark.parametrize(
    "said",
    [
        "Alarms are usually set the night before.",
        "The timer on an oven is set with the dial.",
        "Noted painters of the Dutch Golden Age include Vermeer and Rembrandt.",
        '<tool_call>{"name": "note", "arguments": {"text": "the mona lisa"}}</tool_call>\nNoted: the mona lisa',
    ],
)
def test_a_sentence_about_timers_or_notes_or_a_call_that_ran_is_no_report_in_words(said):
    assert sentence_doubt("?", said) is None


# Sentences in the shapes read here, with any numbers, so that every check's arithmetic is reached.
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["0", "-0", "0.5", "1,000", "9" * 400, "-" + "9" * 400]),
)
LEADS = st.sampled_from(["", "the square root of ", "So ", "add ", "divide ", "subtract ", "multiply "])
OPERATIONS = st.sampled_from([" + ", " × ", " / ", " divided by ", "% of ", " and ", " by ", " from ", " miles is "])
VERBS = st.sampled_from([" is ", " = ", ", you get ", " km is "])
ENDS = st.sampled_from([".", " km.", " degrees", "i.", ""])
CLAIMS = st.one_of(
    st.tuples(LEADS, NUMBERS, VERBS, NUMBERS, ENDS),
    st.tuples(LEADS, NUMBERS, OPERATIONS, NUMBERS, VERBS, NUMBERS, ENDS),
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(CLAIMS, st.text(max_size=200)))
def test_any_sentence_gets_a_reason_or_none_never_an_error(said):
    reason = sentence_doubt("a request", said)
    assert reason is None or reason.startswith("its answer")


@pytest.mark.parametrize(
    "said",
    ["The square root of -4 is 2.", "The square root of -9 is 3i.", "0% of " + "9" * 400 + " is 0."],
)
def test_a_claim_with_no_real_result_is_not_read(said):
    assert contradiction(said) is None
