"""A tool call's numbers against the query's: made-up or dropped numbers are caught, the user's own pass."""

import pytest

from assistant.tools.calls import ToolCall
from assistant.tools.grounding import unsaid_numbers


@pytest.mark.parametrize(
    "query, name, arguments, said",
    [
        ("How long until April 9, in days?", "clock", {"to_date": "April 9, 2022"}, "holds 2022"),
        ("Deduct 12 from 127.", "calculate", {"expression": "12 + 12"}, "leaves out 127"),
        ("Add up 245, 118 and 37.", "calculate", {"expression": "245 + 118"}, "leaves out 37"),
        ("In an hour I must leave for the station, remind me.", "reminder", {"text": "leave", "hours": 3}, "holds 3"),
        ("Two and a half minutes on the clock, go.", "timer", {"minutes": 2}, "leaves out 2.5"),
    ],
)
def test_a_number_made_up_or_left_out_is_named(query, name, arguments, said):
    reason = unsaid_numbers(query, ToolCall(name, arguments))
    assert reason is not None and said in reason


@pytest.mark.parametrize(
    "query, name, arguments",
    [
        ("How long until April 9, in days?", "clock", {"to_date": "April 9"}),
        ("What day comes after Sunday?", "clock", {"date": "Sunday", "days": 1}),  # "the day after" is 1
        ("What day comes before Friday?", "clock", {"date": "Friday", "days": -1}),
        ("Wake me at 7", "alarm", {"time": "7:00"}),
        ("What is 1,000 divided by 8?", "calculate", {"expression": "1000 / 8"}),
        ("Set a timer for five minutes", "timer", {"minutes": 5}),
        ("Set a timer for an hour", "timer", {"hours": 1}),
        ("Convert 98.6 F to C", "convert", {"value": 98.6, "from_unit": "F", "to_unit": "C"}),
        ("Remind me to take 2 pills in 20 minutes", "reminder", {"text": "take 2 pills", "minutes": 20}),
        ("What time is it in Tokyo?", "clock", {"place": "Tokyo"}),
        ("Half of 90 is what?", "calculate", {"expression": "90 / 2"}),
        ("What is 15 squared?", "calculate", {"expression": "15^2"}),
        ("Quick one: 48 by 12?", "calculate", {"expression": "48 / 12"}),  # "one" is a word here
    ],
)
def test_the_users_own_numbers_pass(query, name, arguments):
    assert unsaid_numbers(query, ToolCall(name, arguments)) is None


@pytest.mark.parametrize(
    "query, name, arguments",
    [
        ("Two and a half minutes on the clock, go.", "timer", {"seconds": 150}),
        ("Can you give me a shout in a quarter of an hour?", "reminder", {"text": "shout", "minutes": 15}),
        ("Schedule an alarm for 2 pm.", "alarm", {"time": "14:00"}),
        ("I have to be up by quarter to seven.", "alarm", {"time": "06:45"}),
        ("Christmas this year lands on which weekday?", "clock", {"date": "December 25"}),
        ("Three hundred and twelve shared between eight people is what each?", "calculate", {"expression": "312 / 8"}),
    ],
)
def test_the_users_numbers_in_another_known_form_pass(query, name, arguments):
    assert unsaid_numbers(query, ToolCall(name, arguments)) is None


def test_a_right_call_in_a_form_the_check_does_not_know_is_what_it_costs():
    # right, but 2026 and 12 were not said: the teacher is asked, and nothing wrong is kept
    assert unsaid_numbers("What day is Christmas?", ToolCall("clock", {"date": "2026-12-25"})) is not None
