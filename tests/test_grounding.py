"""A tool call against its query: made-up or dropped numbers and swapped units are caught, the user's own pass."""

import json

import pytest

from assistant import config
from assistant.tools.as_said import as_said, with_half_said, with_note_said, with_search_said
from assistant.tools.calls import ToolCall
from assistant.tools.grounding import (
    below_zero,
    doubled_length,
    invented_label,
    invented_place,
    invented_task,
    other_half_of_day,
    other_length,
    other_span,
    other_target_unit,
    other_time,
    reversed_operands,
    said_units,
    unasked_count,
    unasked_note,
    unasked_search,
    uncounted_days,
    unnamed_label,
    unrung_reminder,
    unsaid_date,
    unsaid_label,
    unsaid_length,
    unsaid_numbers,
    unsaid_offset,
    unsaid_operation,
    unsaid_place,
    unsaid_task,
    unsaid_unit,
    unsaid_weekday,
    unsent_message,
)
from assistant.tools.standing import call_doubt
from assistant.tools.timers import label_of
from model.dataset import read_tasks

BENCH = config.assets_dir() / "bench"


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
        ("Wake me at twenty to six tomorrow morning.", "alarm", {"time": "05:40"}),  # no 20 said: 5:40
        ("Christmas this year lands on which weekday?", "clock", {"date": "December 25"}),
        ("Three hundred and twelve shared between eight people is what each?", "calculate", {"expression": "312 / 8"}),
        ("what day of the week will August 19, 2027 be", "clock", {"date": "2027-08-19"}),  # a month by its number
        ("how many days until june 12 2027?", "clock", {"to_date": "2027-06-12"}),
        ("Alarm for seven thirty am.", "alarm", {"time": "seven thirty am"}),  # a time copied in words
        ("seventy-two minus nineteen?", "calculate", {"expression": "seventy-two minus nineteen"}),
        ("Alarm for 6:45 am.", "alarm", {"time": "a quarter to seven am"}),
    ],
)
def test_the_users_numbers_in_another_known_form_pass(query, name, arguments):
    assert unsaid_numbers(query, ToolCall(name, arguments)) is None


def test_a_right_call_in_a_form_the_check_does_not_know_is_what_it_costs():
    # right, but 2026 and 12 were not said: the teacher is asked, and nothing wrong is kept
    assert unsaid_numbers("What day is Christmas?", ToolCall("clock", {"date": "2026-12-25"})) is not None


@pytest.mark.parametrize(
    "query, arguments, said",
    [
        ("How many feet is 4 meters?", {"value": 4, "from_unit": "feet", "to_unit": "meters"}, "you said 4 meters"),
        ("Convert 7 gigabytes to megabytes.", {"value": 7, "from_unit": "bytes", "to_unit": "MB"}, "7 gigabytes"),
        ("Express 50 ounces in grams.", {"value": 50, "from_unit": "pounds", "to_unit": "grams"}, "50 ounces"),
        ("Convert six kilometres to miles", {"value": 6, "from_unit": "miles", "to_unit": "km"}, "6 kilometres"),
    ],
)
def test_a_conversion_from_another_unit_than_the_user_wrote_is_named(query, arguments, said):
    reason = unsaid_unit(query, ToolCall("convert", arguments))
    assert reason is not None and said in reason


@pytest.mark.parametrize(
    "query, arguments",
    [
        ("How many feet is 4 meters?", {"value": 4, "from_unit": "m", "to_unit": "ft"}),
        ("The recipe says 350 degrees Fahrenheit; in Celsius?", {"value": 350, "from_unit": "°F", "to_unit": "°C"}),
        ("Set the oven to 350 degrees, in Celsius", {"value": 350, "from_unit": "°F", "to_unit": "°C"}),  # an angle?
        ("A 2 litre bottle holds how many cups?", {"value": 2, "from_unit": "liters", "to_unit": "cups"}),
        ("How many cups is 2?", {"value": 2, "from_unit": "liters", "to_unit": "cups"}),  # no unit said
    ],
)
def test_a_conversion_from_the_unit_the_user_wrote_or_one_not_said_passes(query, arguments):
    assert unsaid_unit(query, ToolCall("convert", arguments)) is None


@pytest.mark.parametrize(
    "query, name, arguments",
    [
        ("Remind me to feed the cat at 5 am.", "reminder", {"text": "feed the cat", "minutes": 5}),
        ("Set a timer to call mum at 7 o'clock.", "timer", {"hours": 7}),
        ("Wake me at six pm.", "timer", {"minutes": 6}),
        ("I have to be up by quarter to seven.", "timer", {"minutes": 7}),  # a time said in words
        ("Can you give me a shout in a quarter of an hour?", "timer", {"hours": 1}),  # a length: 0.25 of one
    ],
)
def test_a_time_of_day_waited_as_a_length_of_time_is_named(query, name, arguments):
    reason = unsaid_numbers(query, ToolCall(name, arguments))
    assert reason is not None and ("time of day" in reason or "leaves out 0.25" in reason)


@pytest.mark.parametrize(
    "query, arguments",
    [
        ("Remind me to feed the cat at 5 am.", {"text": "feed the cat", "time": "5 am"}),
        ("At 6 pm remind me to stretch in 6 minutes.", {"text": "stretch", "minutes": 6}),  # 6 said both ways
        ("Set a timer for 7:30.", {"minutes": 7, "seconds": 30}),  # no marker: a length
    ],
)
def test_a_time_of_day_kept_as_one_or_a_length_said_as_one_passes(query, arguments):
    assert unsaid_numbers(query, ToolCall("reminder" if "text" in arguments else "timer", arguments)) is None


@pytest.mark.parametrize(
    "query, arguments, named",
    [
        ("Time 6 minutes for the eggs.", {"minutes": 6}, "eggs"),
        ("Give me 18 minutes on the clock for the bread.", {"minutes": 18, "label": "timer"}, "bread"),
        ("Start the pizza countdown: 12 minutes.", {"minutes": 12}, "pizza"),
        ("Can you time the pizza for me? 14 minutes", {"minutes": 14}, "pizza"),
        ("Ten minutes, and call it laundry.", {"minutes": 10}, "laundry"),
        ("Alarm at 17:30 please, call it gym", {"time": "17:30"}, "gym"),
        ("Set an alarm for 6 am named work", {"time": "6 am", "label": "alarm"}, "work"),
    ],
)
def test_a_timer_or_alarm_set_without_the_name_the_user_gave_is_named(query, arguments, named):
    reason = unsaid_label(query, ToolCall("alarm" if "time" in arguments else "timer", arguments))
    assert reason is not None and named in reason


@pytest.mark.parametrize(
    "query, arguments",
    [
        ("Time 6 minutes for the eggs.", {"minutes": 6, "label": "the eggs"}),
        ("Set a timer for the next 10 minutes.", {"minutes": 10}),
        ("Start a 20 minute timer.", {"minutes": 20}),
        ("Egg timer, six minutes.", {"minutes": 6}),  # the kitchen device, not a name
        ("Cancel the pasta timer.", {"action": "cancel", "id": 1}),
        ("What time is it in Paris?", {"minutes": 1}),
    ],
)
def test_a_timer_with_its_name_or_given_none_passes(query, arguments):
    assert unsaid_label(query, ToolCall("timer", arguments)) is None


def test_a_clock_call_that_counts_from_today_instead_of_the_named_weekday_is_named():
    reason = unsaid_weekday("What day comes after Tuesday?", ToolCall("clock", {"days": 1}))
    assert reason is not None and "Tuesday" in reason
    assert unsaid_weekday("What day comes after Tuesday?", ToolCall("clock", {"date": "tuesday", "days": 1})) is None
    assert unsaid_weekday("What time is it?", ToolCall("clock", {})) is None


@pytest.mark.parametrize(
    "query, to",
    [
        ("Text Will that dinner is ready.", "Will"),
        ("Message Yuki: the meeting moved to Friday.", "Yuki"),
        ("Send Marta a message saying thanks for the flowers.", "Marta"),
    ],
)
def test_a_message_to_send_saved_as_a_note_is_named(query, to):
    reason = unsent_message(query, ToolCall("note", {"text": "dinner is ready"}))
    assert reason is not None and to in reason


@pytest.mark.parametrize(
    "query",
    ["Note that I must text Will tonight.", "Save a note: send the invoice.", "Text me at 5.", "send this to Will"],
)
def test_a_note_asked_for_is_no_message(query):
    assert unsent_message(query, ToolCall("note", {"text": "text Will tonight"})) is None


@pytest.mark.parametrize(
    "query, expression, named",
    [
        ("Split 935 by 8 and tell me the result.", "935 - 8", "divide"),
        ("Deduct 12 from 127.", "127 + 12", "subtract"),
        ("Take 28 away from 313.", "313 + 28", "subtract"),
        ("What is 46 times 28?", "46 + 28", "multiply"),
        ("Find the sum of 20 and 22.", "20 * 22", "add"),
        ("Divide 96 by 4.", "96 - 4", "divide"),
        ("What's the square root of 676?", "676^2", "root"),
        ("Find the square root of 529.", "529", "root"),
        ("Figure out 30% of 154.", "154 / 30", "percentage"),
        ("If the bill is 86 and I tip 18 percent, how much is the tip?", "86 * 18", "percentage"),
        ("half of 86?", "86 * 2", "halve"),
        ("what's half of three hundred forty-six", "three hundred forty-six", "halve"),
        ("What is three hundred forty-six?", "three hundred forty-six", "computes nothing"),
    ],
)
def test_a_computation_without_the_operation_the_user_named_is_named(query, expression, named):
    reason = unsaid_operation(query, ToolCall("calculate", {"expression": expression}))
    assert reason is not None and named in reason


@pytest.mark.parametrize(
    "query, expression",
    [
        ("Split 935 by 8 and tell me the result.", "935 / 8"),
        ("What is 46 times 28?", "46 × 28"),
        ("What is 3 x 4 plus 2?", "3 x 4 + 2"),
        ("How many times does 8 go into 96?", "96 / 8"),
        ("What is 20 less than 50?", "50 - 20"),
        ("What's 5 percent of 839?", "5% of 839"),
        ("What's the square root of 676?", "sqrt(676)"),
        ("What's the square root of 676?", "676^0.5"),
        ("What is the cube root of 27?", "27^(1/3)"),
        ("Figure out 30% of 154.", "154 * 0.3"),
        ("What's an 18 percent tip on 86?", "86 * 18 / 100"),
        ("half of 86?", "86 / 2"),
        ("half of 86?", "0.5 * 86"),
        ("what's half of three hundred forty-six", "half of three hundred forty-six"),
    ],
)
def test_a_computation_with_the_operation_named_or_none_named_passes(query, expression):
    assert unsaid_operation(query, ToolCall("calculate", {"expression": expression})) is None


def test_a_clock_call_that_gives_the_day_named_instead_of_the_one_before_or_after_it_is_named():
    for query, day in (("What day comes before Monday?", "Monday"), ("What day comes after Sunday?", "Sunday")):
        reason = unsaid_offset(query, ToolCall("clock", {"date": day}))
        assert reason is not None and ("before" in reason or "after" in reason)
    assert unsaid_offset("What day comes before Monday?", ToolCall("clock", {"date": "Monday", "days": -1})) is None
    assert (
        unsaid_offset("What date is the day after tomorrow?", ToolCall("clock", {"date": "the day after tomorrow"}))
        is None
    )
    assert unsaid_offset("How many days until after Christmas?", ToolCall("clock", {"to_date": "December 26"})) is None
    assert unsaid_offset("What day is June 11?", ToolCall("clock", {"date": "June 11"})) is None
    # a count from the day to another, or the other way, is no day before or after it
    reason = unsaid_offset("What day comes before Wednesday?", ToolCall("clock", {"date": "Wednesday", "days": 1}))
    assert reason is not None and "on" in reason and "before" in reason
    twice = ToolCall("clock", {"date": "Wednesday", "to_date": "Wednesday"})
    assert unsaid_offset("What day comes before Wednesday?", twice) is not None
    left = ToolCall("clock", {"to_date": "Christmas"})
    assert unsaid_offset("How many days are left before Christmas?", left) is None
    assert unsaid_offset("What is 3 days after Saturday?", ToolCall("clock", {"date": "Saturday", "days": 3})) is None


@pytest.mark.parametrize(
    "query, days",
    [
        ("What was the date 3 days ago?", 3),
        ("Which date is 100 days earlier than today?", 100),
        ("Go back twelve days from Friday, what date is that?", 12),
        ("What day will it be in nine days?", -9),
        ("What day is it 10 days from now?", -10),
        ("What's the date 45 days later?", -45),
    ],
)
def test_a_count_of_days_the_other_way_from_the_one_said_is_named(query, days):
    reason = unsaid_offset(query, ToolCall("clock", {"days": days}))
    assert reason is not None and ("back" if days < 0 else "on") in reason
    assert unsaid_offset(query, ToolCall("clock", {"days": -days})) is None  # the way said


@pytest.mark.parametrize(
    "query, days",
    [
        ("What day comes after the day before yesterday?", -1),  # both ways said: either may be right
        ("What's the date 90 days from March 1?", 90),  # no way said
        ("What's the date 90 days from March 1?", -90),
    ],
)
def test_a_count_of_days_is_not_doubted_for_its_way_where_none_or_both_are_said(query, days):
    assert unsaid_offset(query, ToolCall("clock", {"days": days})) is None


def test_a_count_in_days_where_months_were_said_or_the_other_way_is_named():
    reason = other_span(
        "what month will it be 5 months after september", ToolCall("clock", {"date": "September", "days": 5})
    )
    assert reason is not None and "months" in reason
    assert other_span("What's the date in 3 days?", ToolCall("clock", {"months": 3})) is not None
    assert other_span("what month will it be 5 months after september", ToolCall("clock", {"months": 5})) is None
    assert other_span("What date is 2 weeks from today?", ToolCall("clock", {"days": 14})) is None
    assert other_span("What day comes after Tuesday?", ToolCall("clock", {"date": "Tuesday", "days": 1})) is None
    assert unsaid_offset("What was the date 2 months ago?", ToolCall("clock", {"months": 2})) is not None
    assert unsaid_offset("What was the date 2 months ago?", ToolCall("clock", {"months": -2})) is None


def test_a_timer_named_after_its_own_length_is_named_and_a_real_name_passes():
    reason = unnamed_label(
        "Timer for 6 minutes, please.", ToolCall("timer", {"minutes": 6, "label": "6 minutes are up"})
    )
    assert reason is not None and "6 minutes are up" in reason
    for label in ("minutes, 6, 6", "30 seconds for me"):  # only a length: shown as no name, so it stands
        assert unnamed_label("Timer for 6 minutes, please.", ToolCall("timer", {"minutes": 6, "label": label})) is None
    assert unnamed_label("Time 6 minutes for the eggs.", ToolCall("timer", {"minutes": 6, "label": "eggs"})) is None
    assert unnamed_label("Timer for 6 minutes, please.", ToolCall("timer", {"minutes": 6})) is None


def test_a_name_with_words_never_said_is_named_and_the_users_own_words_pass():
    reason = invented_label("I'd like a 22 minute timer.", ToolCall("timer", {"minutes": 22, "label": "timer22"}))
    assert reason is not None and "timer22" in reason
    assert invented_label("Alarm at 7 am.", ToolCall("alarm", {"time": "7 am", "label": "gym"})) is not None
    for query, label in (("Eggs timer, 2 minutes.", "egg"), ("Time 7 minutes for the rice.", "the rice")):
        assert invented_label(query, ToolCall("timer", {"minutes": 7, "label": label})) is None
    assert invented_label("Timer, 3 minutes.", ToolCall("timer", {"minutes": 3})) is None


def test_one_length_given_in_two_units_is_named_and_two_lengths_said_pass():
    reason = doubled_length("Can you time 3 hours for me?", ToolCall("timer", {"hours": 3, "minutes": 3, "seconds": 3}))
    assert reason is not None and "hours and minutes and seconds" in reason
    assert doubled_length("Count 100 seconds for me.", ToolCall("timer", {"seconds": "100", "minutes": 100}))
    assert doubled_length("1 hour and 1 minute, please.", ToolCall("timer", {"hours": 1, "minutes": 1})) is None
    assert doubled_length("Timer for an hour.", ToolCall("timer", {"hours": 1})) is None
    unset = ToolCall("reminder", {"text": "call mum", "hours": 2, "minutes": 0})  # a 0 adds no time
    assert doubled_length("Remind me to call mum in 2 hours.", unset) is None


def test_a_note_for_a_request_to_be_reminded_is_named_and_a_note_asked_for_passes():
    call = ToolCall("note", {"text": "book a table at 8 pm"})
    assert "reminded" in unrung_reminder("Remind me to book a table at 8 pm.", call)
    assert unrung_reminder("Note that I booked a table at 8 pm.", call) is None
    assert unrung_reminder("Remind me what I noted about the table.", ToolCall("note", {"find": "table"})) is None
    laundry = ToolCall("note", {"text": "the laundry"})
    assert unrung_reminder("Ping me about the laundry in 50 minutes.", laundry) is not None
    assert unrung_reminder("Tell me to water the plants in 4 hours.", ToolCall("note", {"text": "water"})) is not None


def test_a_note_saved_for_a_question_is_named_and_a_note_asked_for_passes():
    for query in ("Did I save anything about the gate?", "Any news today on the film festival?"):
        assert "question" in unasked_note(query, ToolCall("note", {"text": "the gate"}))
    assert unasked_note("Did I save anything about the gate?", ToolCall("note", {"find": "gate"})) is None
    assert unasked_note("Could you note that the gate code is 2580?", ToolCall("note", {"text": "code 2580"})) is None
    assert unasked_note("Make a note: the boiler code is 4312.", ToolCall("note", {"text": "boiler 4312"})) is None
    told = unasked_note("Tell me the chemical symbol for sodium.", ToolCall("note", {"text": "Sodium"}))
    assert told == "its call saves a note, but you asked to be told something"
    assert unasked_note("Please give me the capital of Peru.", ToolCall("note", {"text": "Peru"})) is not None
    kyoto = unasked_note("In which country would I find the city of Kyoto?", ToolCall("note", {"text": "Kyoto"}))
    assert kyoto == "its call saves a note, but you asked a question"
    assert unasked_note("Tell me what I noted about the boiler.", ToolCall("note", {"find": "boiler"})) is None


@pytest.mark.parametrize(
    "query, text",
    [
        ("hey who painted the mona lisa", "the mona lisa"),
        ("Triple 12 for me.", "triple 12"),
        ("um, the planet with the rings, which one's that again?", "the planet with the rings"),
        ("is the train to Leeds running late", "the train to Leeds running late"),
    ],
)
def test_a_note_saved_where_nothing_was_asked_to_be_kept_is_named(query, text):
    assert unasked_note(query, ToolCall("note", {"text": text})) == (
        "its call saves a note, but you did not ask to keep anything"
    )


@pytest.mark.parametrize(
    "query, text",
    [
        ("Keep in mind for me: the gate code is 2580.", "the gate code is 2580"),
        ("Store this for me: we parked in row C.", "we parked in row C"),
        ("Can you remember that the school closes at 3:15 on Wednesdays?", "the school closes at 3:15 on Wednesdays"),
        ("jot this down, the plumber comes thursday", "the plumber comes thursday"),
        ("for the record, the meter read 4417 today", "the meter read 4417 today"),
    ],
)
def test_a_note_asked_to_be_kept_passes(query, text):
    assert call_doubt(ToolCall("note", {"text": text}), query) is None


@pytest.mark.parametrize(
    "query, find, reason",
    [
        ("Make a note: the boiler code is 4312.", "the boiler code is 4312", "you asked to save one"),
        ("Jot down that the spare key is under the blue pot.", "blue pot", "you asked to save one"),
        ("Who scored in last night's Real Madrid game?", "real madrid", "did not ask about anything of yours"),
        ("whats the day before sunday", "sunday", "did not ask about anything of yours"),
        ("hey, double seventy-eight for me", "78", "did not ask about anything of yours"),  # a favour asked
    ],
)
def test_a_search_of_the_notes_for_a_note_to_save_or_a_question_about_the_world_is_named(query, find, reason):
    assert reason in unasked_search(query, ToolCall("note", {"find": find}))


@pytest.mark.parametrize(
    "query",
    [
        "What did I save about the wifi?",
        "what's my locker number?",
        "Tell me what I noted about the boiler.",
        "remind me what the wifi password is",
    ],
)
def test_a_search_of_the_notes_for_what_is_yours_passes(query):
    assert unasked_search(query, ToolCall("note", {"find": "wifi"})) is None


def test_a_count_of_days_for_a_weekday_asked_is_named_and_a_count_asked_for_passes():
    call = ToolCall("clock", {"to_date": "September 27"})
    assert "day of the week" in unasked_count("What day of the week is September 27?", call)
    assert unasked_count("On what day does September 27 fall? Which day does it fall on?", call) is not None
    assert unasked_count("How many days until September 27?", call) is None
    assert unasked_count("What day of the week is September 27?", ToolCall("clock", {"date": "September 27"})) is None
    # the days a month has are no count of the days to it
    april = ToolCall("clock", {"to_date": "April"})
    assert "how many days it has" in unasked_count("how many days are in april", april)
    assert unasked_count("How many days until April?", april) is None
    between = ToolCall("clock", {"date": "Saturday", "to_date": "tomorrow"})  # a count from a day is no weekday
    assert unasked_count("If today is Saturday, what day is it tomorrow?", between) is not None


@pytest.mark.parametrize(
    "query, call",
    [
        ("hey is United flight 902 on time?", ToolCall("timer", {"minutes": 902, "label": "United Flight 902"})),
        ("set a timer for 5", ToolCall("timer", {"minutes": 5})),
        ("remind me about the 3 bins", ToolCall("reminder", {"text": "the bins", "minutes": 3})),
    ],
)
def test_a_wait_the_user_never_said_as_a_length_is_named(query, call):
    assert "but you never said how long" in unsaid_length(query, call)
    assert call_doubt(call, query) is not None


@pytest.mark.parametrize(
    "query, call",
    [
        ("start a four hour timer", ToolCall("timer", {"hours": 4})),
        ("timer 30m", ToolCall("timer", {"minutes": 30})),
        ("in half an hour remind me to defrost the chicken", ToolCall("reminder", {"text": "x", "minutes": 30})),
        ("give me 90 secs", ToolCall("timer", {"seconds": 90})),
        ("remind me at 5 pm to call mum", ToolCall("reminder", {"text": "call mum", "time": "17:00"})),
        ("what time is it in Lima?", ToolCall("clock", {"place": "Lima"})),
    ],
)
def test_a_length_said_in_words_in_short_or_as_a_fraction_passes(query, call):
    assert unsaid_length(query, call) is None


def test_every_call_in_the_shipped_task_files_stands_for_its_query():
    """The teacher's calls, right by construction: none is doubted (a doubted right call costs a trip to the
    teacher; these would all make that trip). The second and third fresh sets were written after the
    checks, the third to sixth by people who had not read them. The seventh is left out: it is kept
    untuned, and one of its 28 calls is doubted ("can u set a timer for twenty six minuets" as 26
    minutes: the misspelt unit reads as no length said), a miss measured, not a behaviour to keep."""
    names = ("train", "test", "test_fresh", "test_fresh2", "test_fresh3", "test_fresh4", "test_fresh5", "test_fresh6")
    rows = [row for name in names for row in read_tasks(BENCH / f"{name}.jsonl")]
    local = config.assets_dir() / "tools" / "local_calls.jsonl"  # the notes' example calls
    rows += [json.loads(line) for line in local.read_text().splitlines() if line.strip()]
    calls = [(row["query"], ToolCall(row["call"]["name"], row["call"]["arguments"])) for row in rows if "call" in row]
    assert len(calls) == 407 + 26 + 28 + 28 + 28 + 28
    assert [(query, call_doubt(call, query)) for query, call in calls if call_doubt(call, query)] == []


@pytest.mark.parametrize(
    "query, expression, reversed_",
    [
        ("Subtract 22 from 652.", "22 - 652", True),
        ("Take 16 away from 570.", "16 - 570", True),
        ("What is 81 minus 2?", "2 - 81", True),
        ("Split 827 by 5 and tell me the result.", "5 / 827", True),
        ("Seventy-two minus nineteen?", "nineteen minus seventy-two", True),  # as the calculator reads it
        ("Seventy-two minus nineteen?", "seventy-two minus nineteen", False),
        ("Subtract 22 from 652.", "652 - 22", False),
        ("What is 81 minus 2?", "81 − 2", False),
        ("What is 20 less than 50?", "50 - 20", False),
        ("How many times does 8 go into 96?", "96 / 8", False),
        ("What's the difference between 5 and 12?", "12 - 5", False),  # either way round is asked
        ("What is 12 plus 3?", "12 + 3", False),  # a sum's order is no matter
        ("Figure out 10% of 405.", "405 / 10", False),  # a share is a quotient either way
    ],
)
def test_a_difference_or_quotient_taken_the_other_way_round_is_named(query, expression, reversed_):
    reason = reversed_operands(query, ToolCall("calculate", {"expression": expression}))
    assert (reason is not None) == reversed_
    assert reason is None or "other way round" in reason


@pytest.mark.parametrize(
    "query, expression, result",
    [
        ("Subtract 22 from 652.", "22 - 652", 630),
        ("What do you get when you take 19 away from 50?", "19 - 50", 31),
        ("What is 81 minus 2?", "(2 - 81)", 79),
        ("How many 12s go into 144?", "12 / 144", 12),
        ("Seventy-two minus nineteen?", "nineteen minus seventy-two", 53),
        ("Subtract -3 from 5.", "-3 - 5", 8),  # each number keeps its own sign
        # the order said, or one the user left open, or more than two numbers: as written
        ("Subtract 22 from 652.", "652 - 22", 630),
        ("What's the difference between 5 and 12?", "5 - 12", -7),
        ("Take 3 away from 10 and then from 20.", "3 - 10 - 20", -27),
    ],
)
def test_a_difference_or_quotient_runs_in_the_order_the_user_said(query, expression, result):
    from assistant.tools import trial_run

    call = ToolCall("calculate", {"expression": expression})
    settled = as_said(query, call)
    assert trial_run(settled.name, settled.arguments).data["value"] == result
    if settled != call:  # and it stands: judged as it runs
        assert reversed_operands(query, call) is not None
        assert call_doubt(call, query) is None


@pytest.mark.parametrize(
    "query, arguments, named",
    [
        ("Do you know what time it is?", {"to_date": "January 1st"}, "January"),
        ("What day comes before Wednesday?", {"date": "Wednesday", "to_date": "Thursday"}, "Thursday"),
        ("How many days until May 3?", {"to_date": "June 3"}, "June"),
    ],
)
def test_a_clock_call_naming_a_month_or_weekday_never_said_is_named(query, arguments, named):
    reason = unsaid_date(query, ToolCall("clock", arguments))
    assert reason is not None and named in reason


@pytest.mark.parametrize(
    "query, arguments",
    [
        ("How many days until Christmas?", {"to_date": "December 25"}),  # a holiday says its month
        ("What weekday is the 4th of July?", {"date": "July 4"}),
        ("How many days until Aug 18?", {"to_date": "August 18"}),
        ("What's the date next Friday?", {"date": "next Friday"}),
        ("What is the date today?", {"to_date": "today"}),
    ],
)
def test_a_clock_call_with_the_users_own_dates_passes(query, arguments):
    assert unsaid_date(query, ToolCall("clock", arguments)) is None


def test_a_weekday_given_for_a_count_of_days_asked_is_named():
    reason = uncounted_days("How many days until May 3?", ToolCall("clock", {"date": "May 3"}))
    assert reason is not None and "how many days" in reason.lower()
    assert uncounted_days("How long until Christmas?", ToolCall("clock", {"date": "Christmas"})) is not None
    assert uncounted_days("How many days until May 3?", ToolCall("clock", {"to_date": "May 3"})) is None
    assert uncounted_days("What day is May 3?", ToolCall("clock", {"date": "May 3"})) is None


@pytest.mark.parametrize(
    "query, date",
    [
        ("How many days are there in April?", "April"),
        ("Which month comes after August?", "August"),
        ("What month comes before January?", "January"),
        ("What is the sixth month of the year?", "sixth month"),
        ("How many days does February have in a leap year?", "February"),
    ],
)
def test_a_month_asked_about_stands_as_the_clocks_call_for_that_month(query, date):
    from assistant.tools.standing import call_doubt

    assert call_doubt(ToolCall("clock", {"date": date}), query) is None


def test_the_day_after_tomorrow_is_two_days_on():
    from assistant.tools.standing import call_doubt

    query = "If today is Thursday, what day is it the day after tomorrow?"
    assert call_doubt(ToolCall("clock", {"date": "Thursday", "days": 2}), query) is None
    assert "holds 3" in call_doubt(ToolCall("clock", {"date": "Friday", "days": 3}), query)
    # at the day supposed, it counts the days said
    assert as_said(query, ToolCall("clock", {"date": "Thursday", "days": 3})).arguments["days"] == 2


@pytest.mark.parametrize(
    "query, arguments, settled",
    [
        ("If today is Saturday, what day is it tomorrow?", {"date": "Saturday", "days": 2}, ("Saturday", 1)),
        ("If today is Saturday, what day is it tomorrow?", {"date": "Saturday"}, ("Saturday", 1)),
        (
            "Say it's Thursday today. What day will it be 4 days from now?",
            {"to_date": "Thursday", "days": 4},
            ("Thursday", 4),
        ),
        ("Suppose today is Monday. What day was it 2 days ago?", {"date": "monday", "days": 2}, ("Monday", -2)),
        # yesterday or tomorrow supposed: the days are counted from the day supposed
        ("If yesterday was Friday, what day is tomorrow?", {"date": "Friday"}, ("Friday", 2)),
        ("if yesterday was friday, what's tomorrow", {"date": "yesterday", "days": 2}, ("Friday", 2)),
        ("If tomorrow is Monday, what day is it today?", {"date": "Monday", "days": 1}, ("Monday", -1)),
        # days counted from a weekday by itself, in a call the clock cannot read
        ("What day is it four days after a Tuesday?", {"date": "4 days after a Tuesday"}, ("Tuesday", 4)),
        ("two days before a friday is what day", {"date": "a", "days": 2}, ("Friday", -2)),
        ("Seven days after a Sunday is which day?", {"date": "Sunday", "days": 7, "place": "Sunday"}, None),
        # another day than the one supposed, nothing supposed, or a date the clock reads: as written
        ("If today is Saturday, what day is it tomorrow?", {"date": "Monday"}, None),
        ("What's the date on Tuesday?", {"date": "Tuesday", "days": 2}, None),
        ("What day is 3 days after a Monday?", {"date": "2026-12-25", "days": 3}, None),
    ],
)
def test_a_day_counted_from_the_weekday_supposed_runs_counting_the_days_said(query, arguments, settled):
    from assistant.tools import trial_run
    from assistant.tools.standing import call_doubt

    call = ToolCall("clock", arguments)
    if settled is None:
        assert as_said(query, call) == call
    else:
        day, days = settled
        assert as_said(query, call) == ToolCall("clock", {"date": day, "days": days})
        assert call_doubt(call, query) is None
        # and the clock answers with the weekday that many days on from the one said
        weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        landed = weekdays[(weekdays.index(day) + days) % 7]
        assert trial_run("clock", {"date": day, "days": days}).text.split(" is ")[-1].startswith(landed)


def test_a_weekday_written_as_the_place_too_is_dropped_with_the_count():
    call = ToolCall("clock", {"date": "Monday", "days": -1, "to_date": "Wednesday", "place": "Monday", "months": -1})
    assert as_said("three days before a monday is what day?", call) == ToolCall("clock", {"date": "Monday", "days": -3})


@pytest.mark.parametrize(
    "query, arguments, month",
    [
        ("Tell me the fourth month of the year.", {"date": "fourth"}, "April"),
        ("what's the twelfth month of the year", {"to_date": "the twelfth month of the year"}, "December"),
        ("which month is the ninth one of the year?", {"date": "1"}, "September"),
        ("starting from january, which month is number seven", {"date": "january", "days": 7}, "July"),
    ],
)
def test_a_month_asked_for_by_its_place_is_the_clocks_call_for_that_month(query, arguments, month):
    from assistant.tools import trial_run

    settled = as_said(query, ToolCall("clock", arguments))
    assert settled == ToolCall("clock", {"date": month})
    assert trial_run("clock", settled.arguments).text.startswith(f"{month} is the ")


@pytest.mark.parametrize(
    "query, arguments",
    [
        ("How many days has the second month?", {"date": "the second month"}),  # that month already
        ("What month is 3 months after the sixth month?", {"date": "June", "months": 3}),  # counted from it
        ("What comes after the 5th?", {"date": "fifth"}),  # no month asked
    ],
)
def test_a_call_for_the_month_asked_or_a_count_from_it_is_left_as_it_is(query, arguments):
    assert as_said(query, ToolCall("clock", arguments)) == ToolCall("clock", arguments)


@pytest.mark.parametrize(
    "query, arguments, to_date, shown",
    [
        (
            "how many days till april 22nd 2027",
            {"date": "april 22nd 2027", "days": 22},
            "22 April 2027",
            "22 April 2027 is in",
        ),
        (
            "how many days are left until november 5th, 2027?",
            {"date": "november 5th", "days": 2027},
            "5 November 2027",
            "5 November 2027 is in",
        ),
        ("How many days until the 3rd of May?", {"date": "May", "days": 3}, "3 May", "3 May"),
    ],
)
def test_a_dates_own_number_taken_for_a_count_of_days_is_the_count_until_that_date(query, arguments, to_date, shown):
    """A small student asked the days until a date counts on from it by the date's day or year; as said,
    the clock counts the days until it."""
    from assistant.tools import trial_run

    settled = as_said(query, ToolCall("clock", arguments))
    assert settled == ToolCall("clock", {"to_date": to_date})
    text = trial_run("clock", settled.arguments).text
    assert text.startswith(shown) and "after" not in text  # the days until it, none counted on from it


@pytest.mark.parametrize(
    "query, arguments, month",
    [
        ("How many days does February have in a leap year?", {"date": "February", "days": 2}, "February"),
        ("How many days has April?", {"date": "April", "days": 30}, "April"),
    ],
)
def test_a_count_of_days_on_from_a_month_whose_length_was_asked_is_the_call_for_that_month(query, arguments, month):
    """A small student asked the days a month has counts days on from its first; as said, the clock
    gives the month, with its length."""
    from assistant.tools import trial_run

    settled = as_said(query, ToolCall("clock", arguments))
    assert settled == ToolCall("clock", {"date": month})
    text = trial_run("clock", settled.arguments).text
    assert text.startswith(f"{month} is the ") and " days" in text  # its length, no day counted on from it


@pytest.mark.parametrize(
    "query, arguments",
    [
        ("how many days from april 22nd 2027 until may 1st", {"date": "april 22nd 2027", "days": 22}),  # two dates
        ("what day is 22 days after april 22nd", {"date": "april 22nd", "days": 22}),  # a count said
        ("how many days since march 3rd 2020", {"date": "march 3rd 2020", "days": 3}),  # since, not until
        ("how many days till april 22nd", {"date": "april 22nd", "days": 21}),  # a number not said
        ("how many days till april 22nd", {"date": "May", "days": 22}),  # another month
        ("how many days until april", {"date": "April", "days": 4}),  # no day of it said
        ("What day is it 3 days after the start of March?", {"date": "March", "days": 3}),  # a count said
    ],
)
def test_a_count_of_days_the_user_asked_or_that_is_not_the_dates_own_is_left_as_it_is(query, arguments):
    assert as_said(query, ToolCall("clock", arguments)) == ToolCall("clock", arguments)


@pytest.mark.parametrize(
    "query, arguments, days, weekday",
    [
        ("What day comes after Sunday?", {"date": "Sunday", "days": 2}, 1, "Monday"),  # as "the day after tomorrow"
        ("What day is the day after Thursday?", {"date": "Thursday", "days": 2}, 1, "Friday"),
        ("what's the day before a friday", {"date": "Friday", "days": -2}, -1, "Thursday"),
        ("which day follows tuesday", {"date": "tuesday", "days": 3}, 1, "Wednesday"),
        ("Which day precedes Monday?", {"date": "Monday", "days": -3}, -1, "Sunday"),
    ],
)
def test_the_day_after_or_before_a_weekday_is_one_day_on_or_back(query, arguments, days, weekday):
    """A small student that learned "the day after tomorrow" as two days counts two after a weekday too;
    as said, "the day after Sunday" is one day on from it, and the clock names the day asked about."""
    from assistant.tools import trial_run
    from assistant.tools.standing import call_doubt

    call = ToolCall("clock", arguments)
    settled = as_said(query, call)
    assert settled == ToolCall("clock", {**arguments, "days": days})
    assert f" is {weekday}, " in trial_run("clock", settled.arguments).text
    assert call_doubt(call, query) is None  # judged as it runs: it stands


@pytest.mark.parametrize(
    "query, arguments",
    [
        ("What day comes after Sunday?", {"date": "Sunday", "days": 1}),  # already one day on
        ("What day comes a week after Sunday?", {"date": "Sunday", "days": 2}),  # a week, not a day
        ("What day comes after next Sunday?", {"date": "next Sunday", "days": 2}),  # another day than the one named
        ("whats the day before sunday", {"date": "Saturday", "days": -1}),  # another weekday: doubted, not mended
        ("What is the day after tomorrow?", {"days": 2}),  # two days on, as said
        ("If today is Sunday, what day is it the day after tomorrow?", {"date": "Sunday", "days": 2}),
        ("What day comes after Sunday?", {"to_date": "Sunday", "days": 2}),  # to a date: cannot run, as written
        ("What day comes before Sunday?", {"date": "Sunday", "days": 1}),  # the other way: doubted, not turned
    ],
)
def test_a_day_counted_as_said_or_from_another_day_is_left_as_it_is(query, arguments):
    assert as_said(query, ToolCall("clock", arguments)) == ToolCall("clock", arguments)


@pytest.mark.parametrize(
    "query, arguments, month, neighbour",
    [
        ("Which month comes after June?", {"place": "June", "date": "June"}, "June", "before July"),
        ("which month comes after april", {"to_date": "april", "days": 3}, "April", "before May"),
        ("what month is right before august?", {"to_date": "August", "days": -1}, "August", "after July"),
        ("Which month comes after December?", {"to_date": "December", "days": 1}, "December", "before January"),
    ],
)
def test_a_question_for_the_month_after_or_before_another_is_the_call_for_that_month(
    query, arguments, month, neighbour
):
    """A small student asked for the next month writes a place or a count of days to it; as said, the
    clock gives the month named, with the months either side."""
    from assistant.tools import trial_run
    from assistant.tools.standing import call_doubt

    call = ToolCall("clock", arguments)
    assert as_said(query, call) == ToolCall("clock", {"date": month})
    assert neighbour in trial_run("clock", {"date": month}).text
    assert call_doubt(call, query) is None


@pytest.mark.parametrize(
    "query, arguments",
    [
        ("the month before february is what?", {"date": "february"}),  # that month already
        ("Which month comes after June?", {"date": "July"}),  # another month: doubted, not mended
        ("how many days are in the month after june?", {"date": "June", "days": 30}),  # its days asked
        ("what month will it be 5 months after september", {"date": "September", "months": 5}),  # a count said
        ("Remind me after June to renew the lease", {"date": "June"}),  # no question for a month
    ],
)
def test_a_call_for_another_month_or_another_question_is_left_as_it_is(query, arguments):
    assert as_said(query, ToolCall("clock", arguments)) == ToolCall("clock", arguments)


@pytest.mark.parametrize(
    "query, arguments, settled",
    [
        ("what time is it at the moment?", {"to_date": "at the moment"}, {}),
        ("do you have the time?", {"to_date": "time"}, {}),
        ("What time is it?", {"place": "New York"}, {}),  # a place never named
        ("Is it day or night in Lima right now?", {"date": "Lima"}, {"place": "Lima"}),
        ("what's the time in new york", {"place": "Chicago"}, {"place": "new york"}),
        ("what's the time in new york", {"place": "Boston"}, None),  # the same clock: New York's zone
        # the time there already, or a date the clock reads: as written
        ("what time is it in Tokyo", {"place": "Tokyo"}, None),
        ("How much time is left until Christmas?", {"to_date": "Christmas"}, None),
        ("What time is it?", {}, None),
    ],
)
def test_a_clock_call_for_the_time_now_tells_it_where_the_user_asked(query, arguments, settled):
    call = ToolCall("clock", arguments)
    assert as_said(query, call) == (call if settled is None else ToolCall("clock", settled))


@pytest.mark.parametrize(
    "query, days, reason",
    [
        ("If today is Saturday, what day is it tomorrow?", None, "the 1 day after Saturday"),
        ("Say it's Thursday today. What day will it be 4 days from now?", None, "the 4 days after Thursday"),
        ("if it's tuesday today what day will it be in three days", 1, "the 3 days after Tuesday"),
        ("Suppose today is Monday. What day was it 2 days ago?", 2, "the 2 days before Monday"),
    ],
)
def test_a_clock_call_that_does_not_count_on_from_the_day_supposed_is_named(query, days, reason):
    """The weekday the user supposes today is, given itself, is no answer to the day after it."""
    from assistant.tools.grounding import uncounted_supposed

    weekday = next(d for d in ("Saturday", "Thursday", "tuesday", "Monday") if d.lower() in query.lower())
    arguments = {"date": weekday} | ({"days": days} if days is not None else {})
    said = uncounted_supposed(query, ToolCall("clock", arguments))
    assert said is not None and reason in said.replace("tuesday", "Tuesday"), said


@pytest.mark.parametrize(
    "query, arguments",
    [
        ("If today is Saturday, what day is it tomorrow?", {"date": "Saturday", "days": 1}),
        ("if it's tuesday today what day will it be in three days", {"date": "tuesday", "days": 3}),
        ("Suppose today is Monday. What day was it 2 days ago?", {"date": "Monday", "days": -2}),
        ("If yesterday was Friday, what day is tomorrow?", {"date": "Friday", "days": 2}),  # two days on from it
        ("What day comes after Tuesday?", {"date": "Tuesday", "days": 1}),  # nothing supposed
    ],
)
def test_a_clock_call_that_counts_on_from_the_day_supposed_passes(query, arguments):
    from assistant.tools.grounding import uncounted_supposed

    assert uncounted_supposed(query, ToolCall("clock", arguments)) is None


@pytest.mark.parametrize(
    "query, name, arguments, left",
    [
        ("um timer, one hour and ten minutes", "timer", {"hours": 1}, True),  # the ten minutes
        ("um timer, one hour and ten minutes", "timer", {"hours": 1, "minutes": 10}, False),
        ("Which day of the week comes just before Friday?", "clock", {"date": "Friday"}, True),
        ("Which day of the week comes just before Friday?", "clock", {"date": "Friday", "days": -1}, False),
        ("Say it's Thursday today. What day was it before?", "clock", {"date": "Thursday"}, True),
        ("How many days until May 3?", "clock", {"date": "May 3"}, True),  # a count asked: to_date or days
        ("What's 17 times 23?", "calculate", {"expression": "17 *"}, True),
        ("Remind me to call mum at 5 pm", "reminder", {"text": "call mum"}, True),
        # already wrong: another argument would not set it right
        ("Set a timer for 5 minutes", "timer", {"minutes": 50}, False),
        ("Deduct 12 from 127.", "calculate", {"expression": "12 + 13"}, False),
        # a year said with a date is the date's, not another argument's
        ("how many days are left until november 5th, 2027?", "clock", {"to_date": "November 5th"}, False),
        # nothing left out
        ("What time is it in Tokyo?", "clock", {"place": "Tokyo"}, False),
        ("What day comes after Tuesday?", "clock", {"date": "Tuesday", "days": 1}, False),
        # it runs counting the day after the one supposed (`as_said`)
        ("If today is Saturday, what day is it tomorrow?", "clock", {"date": "Saturday"}, False),
        ("convert 5 miles to km", "convert", {"value": 5, "from_unit": "miles"}, False),
    ],
)
def test_a_call_that_leaves_out_what_one_more_argument_could_hold_is_told_apart(query, name, arguments, left):
    from assistant.tools.standing import left_out

    assert left_out(ToolCall(name, arguments), query) is left


@pytest.mark.parametrize(
    "query, date, reason",
    [
        ("How many days until April?", "April", "counts no days"),  # a count to the month, not of it
        ("What is the sixth month of the year?", "June", "names June"),  # the month is the tool's to find
        ("How many days are there in April?", "May", "names May"),
    ],
)
def test_a_month_call_that_does_not_answer_the_question_cannot_stand(query, date, reason):
    from assistant.tools.standing import call_doubt

    assert reason in (call_doubt(ToolCall("clock", {"date": date}), query) or "")


@pytest.mark.parametrize(
    "query, text, kept",
    [
        ("At 3 am, remind me to reply to Anna.", "to Anna", False),
        ("Don't let me forget to reply to Anna in 30 minutes.", "reply", False),
        ("Remind me at 9:30 pm to check the oven.", "the oven", False),
        ("Tell me to move the car in three hours.", "the car", False),
        ("At 3 am, remind me to reply to Anna.", "reply to Anna", True),
        ("Remind me at 9:30 pm to check the oven.", "Check the oven.", True),
        ("Don't let me forget to book the dentist in 40 minutes.", "book dentist", True),
        ("Ping me about the laundry in 50 minutes.", "anything", False),
        ("Ping me about the laundry in 50 minutes.", "laundry", True),  # what it is about, without "the"
        # the time it is for is no part of it, however said
        ("remind me to book the vet appointment at half ten tomorrow morning", "book the vet appointment", True),
        ("remind me to call mum in an hour", "call mum", True),
        ("remind me to pay the bill this evening", "pay the bill", True),
        ("remind me to pay the bill this evening", "the bill", False),
    ],
)
def test_a_reminder_that_leaves_out_what_it_is_for_is_named(query, text, kept):
    reason = unsaid_task(query, ToolCall("reminder", {"text": text, "minutes": 30}))
    assert (reason is None) == kept


def test_a_timer_or_alarm_for_a_request_to_be_reminded_is_named():
    reason = unsaid_task("Tell me to move the car in 3 hours.", ToolCall("alarm", {"time": "3 hours"}))
    assert reason is not None and "move the car" in reason
    assert unsaid_task("Remind me to stretch in 5 minutes.", ToolCall("timer", {"minutes": 5})) is not None
    assert unsaid_task("Set a timer for 5 minutes.", ToolCall("timer", {"minutes": 5})) is None
    assert unsaid_task("Wake me at 7 am to go running.", ToolCall("alarm", {"time": "7 am"})) is None


@pytest.mark.parametrize(
    "query, arguments, waits",
    [
        ("Start a 25 second timer.", {"minutes": 25}, "25 minutes"),
        ("Could you set up a 1 hour timer?", {"minutes": 1}, "1 minute"),
        ("Count 100 seconds for me.", {"minutes": 100}, "100 minutes"),
        ("Remind me to stretch in two hours.", {"text": "stretch", "minutes": 2}, "2 minutes"),
    ],
)
def test_a_length_in_another_unit_than_said_is_named(query, arguments, waits):
    reason = other_length(query, ToolCall("reminder" if "text" in arguments else "timer", arguments))
    assert reason is not None and waits in reason


@pytest.mark.parametrize(
    "query, arguments",
    [
        ("Start a 25 second timer.", {"seconds": 25}),
        ("Count 90 seconds for me.", {"minutes": 1.5}),  # the same length in another unit
        ("Set a timer for 1 hour 30 minutes.", {"minutes": 90}),  # two parts said, one length
        ("Set a timer for an hour and a half.", {"hours": 1, "minutes": 30}),
        ("A quarter of an hour on the clock, please.", {"minutes": 15}),  # said in words: not read here
        ("Wake me at 7.", {"minutes": 7}),  # no length said with its unit: for the other checks
    ],
)
def test_a_length_as_said_passes(query, arguments):
    assert other_length(query, ToolCall("timer", arguments)) is None


@pytest.mark.parametrize(
    "query, name, arguments, said",
    [
        ("Could you set an alarm at nine in the evening?", "alarm", {"time": "9 am"}, "you said evening"),
        ("Wake me at 6 in the morning", "alarm", {"time": "18:00"}, "you said the morning"),
        ("Remind me at 7 tonight to lock up", "reminder", {"text": "lock up", "time": "07:00"}, "you said tonight"),
    ],
)
def test_an_alarm_or_reminder_in_the_other_half_of_the_day_is_named(query, name, arguments, said):
    assert said in other_half_of_day(query, ToolCall(name, arguments))


@pytest.mark.parametrize(
    "query, arguments",
    [
        ("Could you set an alarm at nine in the evening?", {"time": "9 pm"}),
        ("Could you set an alarm at nine in the evening?", {"time": "21:00"}),
        ("Alarm at 9", {"time": "9 am"}),  # no half of the day said
        ("Wake me at 7", {"time": "7"}),  # the tool takes the next 7 o'clock
        ("Set an alarm for 1 at night", {"time": "01:00"}),  # the small hours are no morning said
        ("Every morning I forget: alarm at 7 pm please", {"time": "19:00"}),  # said both ways: left alone
        ("Wake me at 7, I am worn out", {"time": "19:00"}),  # "am" the verb, not the morning
    ],
)
def test_an_alarm_in_the_half_of_the_day_said_or_none_said_passes(query, arguments):
    assert other_half_of_day(query, ToolCall("alarm", arguments)) is None


@pytest.mark.parametrize(
    "query, time, said",
    [
        ("Alarm for half past eight in the evening.", "eight", "8:30"),
        ("I have to be up by quarter to seven.", "seven", "6:45"),
        ("Set an alarm for 7 am", "8:00", "7 am"),
        ("Remind me at 3:15 pm to call the bank", "3 pm", "3:15 pm"),
        ("wake me up at noon", "19:30", "noon"),
        ("Alarm at midday tomorrow", "tomorrow 7:00", "midday"),
        ("Set an alarm for midnight", "12:00 pm", "midnight"),
        ("Remind me at noon to water the plants", "00:00", "noon"),
    ],
)
def test_an_alarm_or_reminder_at_another_time_than_said_is_named(query, time, said):
    assert f"you said {said}" in other_time(query, ToolCall("alarm", {"time": time}))


@pytest.mark.parametrize(
    "query, time",
    [
        ("Alarm for half past eight in the evening.", "8:30 pm"),
        ("Alarm for half past eight in the evening.", "20:30"),  # either half: other_half_of_day asks which
        ("I have to be up by quarter to seven.", "6:45"),
        ("alarm at 17:30 please, call it gym", "5:30 pm"),
        ("Could you set an alarm at nine in the evening?", "nine"),  # "at nine" may be a length: not read
        ("Wake me at midnight", "0:00"),
        ("Rouse me at 12 am", "00:00"),
        ("wake me up at noon", "12:00"),
        ("wake me up at noon", "12 pm"),
        ("Alarm at midday tomorrow", "tomorrow 12:00"),
        ("Set an alarm for midnight", "12:00"),  # a bare 12 may be either
        ("Set an alarm for midnight", "12 am"),
        ("Alarm this afternoon at 3", "3 pm"),  # "afternoon" names no time
        ("Alarm for ten past midnight", "00:10"),
        ("Remind me before noon to call mum", "11:00"),
    ],
)
def test_an_alarm_at_the_time_said_or_one_not_said_plainly_passes(query, time):
    assert other_time(query, ToolCall("alarm", {"time": time})) is None


@pytest.mark.parametrize(
    "query, to_unit, asked",
    [
        ("How many ounces is 250 grams?", "pounds", "ounces"),
        ("What's 70 kilos in pounds?", "stone", "pounds"),
        ("A 2 litre bottle holds how many cups?", "pints", "cups"),
        ("Convert 68 degrees Fahrenheit to Celsius.", "kelvin", "Celsius"),
    ],
)
def test_a_conversion_to_another_unit_than_the_one_asked_for_is_named(query, to_unit, asked):
    call = ToolCall("convert", {"value": 1, "from_unit": "grams", "to_unit": to_unit})
    assert f"you asked for {asked}" in other_target_unit(query, call)


@pytest.mark.parametrize(
    "query, to_unit",
    [
        ("How many ounces is 250 grams?", "oz"),
        ("What's 70 kilos in pounds?", "lbs"),
        ("Convert 68 degrees Fahrenheit to Celsius.", "degrees Celsius"),
        ("How heavy is 150 pounds?", "kilograms"),  # no unit asked for
        ("What's 2 litres in US gallons?", "gallons"),  # a unit this does not read: nothing doubted
        ("How many hours is 3 days in minutes?", "minutes"),  # two units asked for: nothing doubted
    ],
)
def test_a_conversion_to_the_unit_asked_for_or_none_named_passes(query, to_unit):
    assert other_target_unit(query, ToolCall("convert", {"value": 1, "from_unit": "m", "to_unit": to_unit})) is None


def test_a_clock_call_for_another_place_than_the_one_asked_about_is_named():
    assert "you asked about Sydney" in unsaid_place("What's the time over in Sydney?", ToolCall("clock", {}))
    asked = unsaid_place("What time is it in New York?", ToolCall("clock", {"place": "Tokyo"}))
    assert asked == "its call tells the time in Tokyo, but you asked about New York"
    assert "you asked about Tokyo" in unsaid_place("In Tokyo, what time is it?", ToolCall("clock", {}))
    for query, arguments in (
        ("What's the time over in Sydney?", {"place": "Sydney, Australia"}),
        ("What time is it in Tokyo right now?", {"place": "Asia/Tokyo"}),
        ("What time is it?", {}),
        ("What day is it in Paris tomorrow?", {"date": "tomorrow"}),  # a date's weekday is the same anywhere
        ("What's the time in Narnia?", {}),  # no place the clock knows: left to the tool
    ):
        assert unsaid_place(query, ToolCall("clock", arguments)) is None, query


@pytest.mark.parametrize(
    "query, arguments, label",
    [
        ("40 minute countdown for the laundry, please.", {"minutes": 40}, "laundry"),
        ("Put 7 minutes on a countdown.", {"minutes": 7, "label": "minutes"}, "minutes"),  # no name given
        ("timer 12 minutes for the rice", {"minutes": 12, "label": "timer"}, "rice"),
        ("alarm at 5:40 pm called gym", {"time": "5:40 pm"}, "gym"),
        ("Time 6 minutes for the eggs.", {"minutes": 6, "label": "the eggs"}, "the eggs"),  # its own kept
        ("Set a timer for the next 10 minutes.", {"minutes": 10}, None),
        ("Time the pasta for 8 minutes, and call it dinner.", {"minutes": 8}, None),  # two names: left
        # a name before the word timer: after "a" or "an", or leading the request
        ("start a pasta timer for 9 minutes", {"minutes": 9}, "pasta"),
        ("tea timer, 4 minutes", {"minutes": 4}, "tea"),
        ("Set timer for 9 minutes", {"minutes": 9}, None),  # a verb leads it: no name
        ("um timer, one hour and ten minutes", {"hours": 1, "minutes": 10}, None),  # nor a word said first
        ("ok timer for 5 minutes", {"minutes": 5}, None),
        ("set a 10 minute timer", {"minutes": 10}, None),
        ("a kitchen timer for 5 min", {"minutes": 5}, None),
    ],
)
def test_a_timer_or_alarm_left_unnamed_runs_with_the_name_the_user_gave(query, arguments, label):
    kind = "alarm" if "time" in arguments else "timer"
    settled = as_said(query, ToolCall(kind, arguments))
    assert settled.arguments.get("label") == label
    assert call_doubt(ToolCall(kind, arguments), query) is None or label is None  # judged as it runs


@pytest.mark.parametrize(
    "query, call, settled",
    [
        (
            "Tell me to water the plants in 4 hours.",
            ("timer", {"hours": 4}),
            ("reminder", {"text": "water the plants", "hours": 4}),
        ),
        (
            "Remind me at 9:30 pm to check the oven",
            ("alarm", {"time": "21:30"}),
            ("reminder", {"text": "check the oven", "time": "21:30"}),
        ),
        (
            "Remind me in twenty minutes to call Bob",
            ("timer", {"minutes": 20}),
            ("reminder", {"text": "call Bob", "minutes": 20}),
        ),
        (
            "Set a timer for 5 minutes to boil eggs",
            ("timer", {"minutes": 5}),
            ("timer", {"minutes": 5}),
        ),  # no reminder asked
        (
            "Ping me about the laundry in 50 minutes.",
            ("timer", {"minutes": 50}),
            ("reminder", {"text": "laundry", "minutes": 50}),
        ),
        (  # a reminder, not a timer named "party"
            "Remind me to take the bread out for the party in 10 minutes",
            ("timer", {"minutes": 10}),
            ("reminder", {"text": "take the bread out for the party", "minutes": 10}),
        ),
        (
            "Remind me to stretch in 5 minutes",
            ("timer", {"minutes": 5, "label": "yoga"}),
            ("timer", {"minutes": 5, "label": "yoga"}),
        ),
    ],
)
def test_a_timer_set_for_a_request_to_be_reminded_runs_as_the_reminder_that_says_it(query, call, settled):
    assert as_said(query, ToolCall(*call)) == ToolCall(*settled)
    assert call_doubt(ToolCall(*call), query) is None or call[1].get("label")  # judged as it runs


def test_a_name_that_is_only_a_length_or_a_time_is_no_name():
    for label in ("minutes", "90 seconds", "minutes, 6, 6", "5:45", "the timer"):
        assert label_of(label) == "", label
    for label in ("pasta", "6 minutes are up", "hour glass"):
        assert label_of(label) == label, label


@pytest.mark.parametrize(
    "query, time, settled",
    [
        ("Set me an alarm, 6:10 tomorrow morning.", "6:10", "6:10 morning"),
        ("Could you set an alarm at nine in the evening?", "9", "9 evening"),
        ("Rouse me at 11 am.", "11:00", "11:00 am"),
        ("Wake me at 1 tonight.", "1", "1 tonight"),  # the tool reads it: 1 at night is 1 am
        ("Alarm at 7.", "7", "7"),  # no half said: the tool takes the next 7 and says so
        ("Alarm at 7 am, and another at 8 pm.", "7", "7"),  # said both ways: left as it is
        ("Alarm at 7 am.", "07:00", "07:00"),  # already one half
        # the other half written outright: the digits, in the half said
        ("Could you set an alarm at nine in the evening?", "9 am", "9 evening"),
        ("Alarm at 7 in the morning.", "7 p.m.", "7 morning"),
        ("Alarm at 7 in the morning.", "19:00", "19:00"),  # no half written to take back: doubted, not read
    ],
)
def test_a_clock_time_in_either_half_is_read_in_the_half_the_user_said(query, time, settled):
    assert with_half_said(query, ToolCall("alarm", {"time": time})).arguments["time"] == settled


@pytest.mark.parametrize(
    "query, text, invented",
    [
        ("Pasta's on, twelve minutes please.", "stretch", True),
        ("At 6 pm I should call grandma, remind me.", "reminder", True),
        ("Can you give me a shout in a quarter of an hour?", "I'm sorry for any mistakes", True),
        ("At 6 pm I should call grandma, remind me.", "call grandma", False),
        ("Ping me about the laundry in 50 minutes.", "the laundry", False),
        ("Remind me about the bins in an hour.", "bin", False),  # said in the plural
    ],
)
def test_a_reminder_for_something_never_said_is_named(query, text, invented):
    assert (invented_task(query, ToolCall("reminder", {"text": text, "minutes": 12})) is not None) == invented


def test_a_clock_call_for_a_place_never_named_is_named_and_one_said_passes():
    reason = invented_place("What time is it right now?", ToolCall("clock", {"place": "New York"}))
    assert reason is not None and "New York" in reason
    assert invented_place("what's the time in new york", ToolCall("clock", {"place": "New York"})) is None
    assert invented_place("What time is it?", ToolCall("clock", {})) is None


@pytest.mark.parametrize(
    "query, text, search",
    [
        ("what did I write down about the landlord?", "the landlord", {"find": "the landlord"}),
        ("did I save anything about my passport?", "my passport", {"find": "my passport"}),
        ("Tell me what I noted about the boiler.", "boiler", {"find": "boiler"}),
        # a question about the world, or a request to save, keeps its call (and its doubt)
        ("Who wrote Hamlet?", "Hamlet", {"text": "Hamlet"}),
        ("Make a note: what did I forget? The milk.", "the milk", {"text": "the milk"}),
        ("hey, double seventy-eight for me?", "78", {"text": "78"}),
        ("In which country would I find the city of Kyoto?", "Kyoto", {"text": "Kyoto"}),
    ],
)
def test_a_note_saved_for_a_question_about_the_users_notes_runs_as_the_search(query, text, search):
    assert with_search_said(query, ToolCall("note", {"text": text})) == ToolCall("note", search)


@pytest.mark.parametrize(
    "query, text, settled",
    [
        (
            "jot this down: the parking spot is level 3, row F",
            "the parking spot is level 3",
            "the parking spot is level 3, row F",
        ),
        (
            "Make a note that the wifi password is tulip-42, upstairs router.",
            "the wifi password is tulip-42",
            "the wifi password is tulip-42, upstairs router",
        ),
        # whole already, in other words, or not a request to save: left as the model wrote it
        (
            "jot this down: the parking spot is level 3, row F",
            "the parking spot is level 3, row F",
            "the parking spot is level 3, row F",
        ),
        ("jot this down: the parking spot is level 3, row F", "parking level 3", "parking level 3"),
        ("the parking spot is level 3, row F", "the parking spot is level 3", "the parking spot is level 3"),
    ],
)
def test_a_note_cut_short_is_saved_whole_as_said(query, text, settled):
    assert with_note_said(query, ToolCall("note", {"text": text})) == ToolCall("note", {"text": settled})
    assert as_said(query, ToolCall("note", {"text": text})).arguments["text"] == settled


@pytest.mark.parametrize(
    "query, call, converted",
    [
        (
            "Recalculate 15 yards in meters.",
            ("calculate", {"expression": "15 yards in meters"}),
            (15, "yards", "meters"),
        ),
        (
            "Recalculate 5 kilograms in pounds.",
            ("calculate", {"expression": "5 kilograms in pounds"}),
            (5, "kilograms", "pounds"),
        ),
        (
            "A 2 litre bottle holds how many cups?",
            ("calculate", {"expression": "2 litre bottle holds 2 cups"}),
            (2, "litre", "cups"),
        ),
        ("How many cups is 500 ml?", ("calculate", {"expression": "500 ml"}), (500, "ml", "cups")),
        (
            "it's minus ten celsius out, what's that in fahrenheit?",
            ("calculate", {"expression": "-10 celsius to F"}),
            (-10, "celsius", "fahrenheit"),
        ),
        (
            "my phone screen is 6.1 inches, how many cm is that",
            ("clock", {"to_date": "6.1 inches"}),
            (6.1, "inches", "cm"),
        ),
        ("What is 100 days in hours?", ("clock", {"to_date": "100 days", "days": 1}), (100, "days", "hours")),
        (
            "how many minutes are there in three and a half hours",
            ("timer", {"minutes": 3.5}),
            (3.5, "hours", "minutes"),
        ),
        # arithmetic the calculator reads, one number with no unit said after it, or two numbers: as written
        ("Recalculate 15 yards in meters.", ("calculate", {"expression": "15 * 0.9144"}), None),
        ("What's the square root of 144?", ("calculate", {"expression": "sqrt(144)"}), None),
        ("Half of 90?", ("calculate", {"expression": "half of 90"}), None),
        ("What is 15% of 80?", ("calculate", {"expression": "15% of 80"}), None),
        ("Convert 100 dollars to euros", ("calculate", {"expression": "100 dollars to euros"}), None),  # a currency
        # a call that runs and answers what was asked, or one holding no number said: as written
        ("set a timer for 10 minutes", ("timer", {"minutes": 10}), None),
        ("How many days until May 3?", ("clock", {"to_date": "May 3"}), None),
        ("What is 100 days in hours?", ("clock", {"to_date": "next week"}), None),
    ],
)
def test_a_call_that_cannot_answer_a_question_for_a_quantity_runs_as_the_conversion(query, call, converted):
    call = ToolCall(*call)
    settled = as_said(query, call)
    if converted is None:
        assert settled == call
    else:
        value, source, target = converted
        assert settled == ToolCall("convert", {"value": value, "from_unit": source, "to_unit": target})
        # and it stands: judged as it runs, not as the tool that could not read it
        assert call_doubt(call, query) is None


def test_a_value_said_below_zero_converted_above_it_is_named():
    query = "it's minus ten celsius out, what's that in fahrenheit?"
    celsius = {"from_unit": "degrees Celsius", "to_unit": "degrees Fahrenheit"}
    assert "you said minus 10" in call_doubt(ToolCall("convert", {"value": 10, **celsius}), query)
    assert call_doubt(ToolCall("convert", {"value": -10, **celsius}), query) is None
    assert call_doubt(ToolCall("convert", {"value": 10, **celsius}), "convert 10 celsius to fahrenheit") is None
    # a subtraction's second number is no number below zero
    assert call_doubt(ToolCall("calculate", {"expression": "405 - 61"}), "405 minus 61?") is None


@pytest.mark.parametrize(
    "query, expression, reason",
    [
        ("Quick one: 48 by 12?", "48 - 12", "neither multiplies nor divides, which you asked (“48 by 12”)"),
        ("forty-eight by twelve", "48 + 12", "neither multiplies nor divides"),
        ("We're splitting a 186 dollar bill four ways, how much each?", "186 * 4", "does not divide"),
    ],
)
def test_a_computation_of_one_number_by_another_that_neither_multiplies_nor_divides_is_named(query, expression, reason):
    assert reason in call_doubt(ToolCall("calculate", {"expression": expression}), query)


@pytest.mark.parametrize(
    "query, expression",
    [("Quick one: 48 by 12?", "48 * 12"), ("divide 48 by 12", "48 / 12"), ("increase 50 by 10", "50 + 10")],
)
def test_a_product_a_quotient_or_a_sum_said_with_by_passes(query, expression):
    assert call_doubt(ToolCall("calculate", {"expression": expression}), query) is None


def test_a_timer_for_a_question_for_a_number_is_named():
    assert "you asked “how many”" in call_doubt(ToolCall("timer", {"hours": 3}), "how many people fit in 3 cars?")
    # a question for a quantity in another unit runs as that conversion
    assert call_doubt(ToolCall("timer", {"hours": 3}), "Three hours is how many minutes?") is None
    assert call_doubt(ToolCall("timer", {"minutes": 5}), "how many minutes? set a timer for 5 minutes") is None
    assert call_doubt(ToolCall("timer", {"action": "list"}), "how many timers do I have?") is None


@pytest.mark.parametrize(
    "query, text, settled",
    [
        ("remind me to take the bins out in 45 minutes", "take the bins out in 45 minutes", "take the bins out"),
        ("remind me to call mum in an hour", "call mum in an hour", "call mum"),
        # what it is for, however long, stays whole
        ("remind me to put it in a box in 5 minutes", "put it in a box", "put it in a box"),
        ("remind me to take the bins out in 45 minutes", "bins", "bins"),
    ],
)
def test_a_reminder_runs_without_the_time_it_is_for_in_its_words(query, text, settled):
    assert as_said(query, ToolCall("reminder", {"text": text, "minutes": 45})).arguments["text"] == settled


@pytest.mark.parametrize(
    "query, value, units",
    [
        ("How many inches is 178 centimeters?", 178, ("centimeters", "inches")),
        ("How many degrees Celsius is 86 degrees Fahrenheit?", 86, ("degrees Fahrenheit", "degrees Celsius")),
        ("the recipe wants 7 ounces of chocolate, how many grams do I need?", 7, ("ounces", "grams")),
        ("how many liters are in 5 US gallons?", 5, ("US gallons", "liters")),
        ("um what's 120 km/h in miles per hour", 120, ("km/h", "miles per hour")),
        ("it's minus ten celsius out, what's that in fahrenheit?", -10, ("celsius", "fahrenheit")),
        ("convert 5 km to miles", None, (None, "miles")),  # no value yet: which number is the unit's is unknown
        # another kind than the unit asked for: an angle's "degrees" is not what is converted to Fahrenheit
        ("What is 20 degrees in fahrenheit?", 20, (None, "fahrenheit")),
        ("How many feet is a 5k race?", 5, (None, "feet")),
        ("convert 90 degrees to radians", 90, ("degrees", "radians")),
        ("How many inches is 178 centimeters?", 9, (None, "inches")),  # a value never said follows no unit
        ("What is the capital of France?", 3, (None, None)),
    ],
)
def test_the_units_a_conversion_must_hold_are_the_ones_said(query, value, units):
    said = said_units(query, value)
    assert (said["from_unit"], said["to_unit"]) == units


@pytest.mark.parametrize(
    "query, below",
    [
        ("it's minus ten celsius out, what's that in fahrenheit?", True),
        ("What is -4 °F in Celsius?", True),
        ("negative 3.5 celsius in kelvin", True),
        ("What is 405 minus 61?", False),  # a subtraction
        ("from -5 to 10 celsius, how far?", False),  # two numbers: which one the value is, is the model's
        ("convert 10 celsius to fahrenheit", False),
    ],
)
def test_a_number_said_below_zero_is_told_apart(query, below):
    assert below_zero(query) is below


@pytest.mark.parametrize(
    "query, call, expression, result",
    [
        ("Triple 41, please.", ("calculate", {"expression": "41 * 2"}), "41 * 3", "123"),
        ("what is half of two hundred and ten", ("calculate", {"expression": "210"}), "210 / 2", "105"),
        ("double sixty-four for me", ("calculate", {"expression": "double 64"}), "64 * 2", "128"),
        ("What's a third of 180?", ("clock", {"to_date": "180"}), "180 / 3", "60"),
    ],
)
def test_a_number_doubled_or_halved_as_said_is_the_calculation_said(query, call, expression, result):
    from assistant.tools import trial_run

    settled = as_said(query, ToolCall(*call))
    assert settled == ToolCall("calculate", {"expression": expression})
    assert trial_run("calculate", settled.arguments).data["result"] == result


@pytest.mark.parametrize(
    "query, call",
    [
        ("Double 37 for me.", ("calculate", {"expression": "37 + 37"})),  # the same number, another way
        ("what is half of 10 plus 3", ("calculate", {"expression": "10 / 2 + 3"})),  # two numbers
        ("set a timer for half of 10 minutes", ("timer", {"minutes": 5})),  # a call that runs
    ],
)
def test_a_calculation_that_comes_to_the_scaling_said_or_another_question_is_left(query, call):
    assert as_said(query, ToolCall(*call)) == ToolCall(*call)


@pytest.mark.parametrize(
    "query, arguments, date, weekday",
    [
        ("what weekday is the 9th of june 2027?", {"date": "June 2027", "days": 9}, "9 June 2027", "Wednesday"),
        (
            "Which day of the week is October 3rd, 2028?",
            {"date": "October 2028", "days": 3},
            "3 October 2028",
            "Tuesday",
        ),
        ("What weekday was the 1st of May this year?", {"date": "May", "days": 1}, "1 May this year", None),
    ],
)
def test_a_date_said_split_into_its_month_and_days_runs_as_the_date(query, arguments, date, weekday):
    import datetime as dt

    from assistant.tools import trial_run

    weekday = weekday or f"{dt.date(dt.date.today().year, 5, 1):%A}"  # this year's 1st of May
    settled = as_said(query, ToolCall("clock", arguments))
    assert settled == ToolCall("clock", {"date": date})
    assert weekday in trial_run("clock", settled.arguments).text


@pytest.mark.parametrize(
    "query, arguments",
    [
        ("What date is 16 days after March 1?", {"date": "March", "days": 16}),  # a count of days said
        ("What day is March 16?", {"date": "March", "days": 15}),  # not the day said
        ("What day is March 16?", {"date": "16 March"}),  # the date already
    ],
)
def test_a_month_and_days_the_user_counted_or_another_day_are_left(query, arguments):
    assert as_said(query, ToolCall("clock", arguments)) == ToolCall("clock", arguments)


@pytest.mark.parametrize(
    "query, expression, whole, result",
    [
        ("Sum 312, 45 and 8 for me.", "312 + 45", "312 + 45 + 8", "365"),
        ("multiply 2, 3 and 7 together", "2 * 3", "2 * 3 * 7", "42"),
        ("what's (120 - 36) divided by 4", "120 - 36", "(120 - 36) / 4", "21"),
        ("take 9 plus 11, then times the result by 5", "9 + 11", "(9 + 11) * 5", "100"),
    ],
)
def test_a_calculation_cut_short_computes_the_whole_said(query, expression, whole, result):
    from assistant.tools import trial_run

    settled = as_said(query, ToolCall("calculate", {"expression": expression}))
    assert settled == ToolCall("calculate", {"expression": whole})
    assert trial_run("calculate", settled.arguments).data["result"] == result


@pytest.mark.parametrize(
    "query, expression",
    [
        ("what is 5 plus 3 minus 2", "5 + 3"),  # another operation, not said of the whole: as written
        ("245 plus 118 divided by 2", "245 + 118"),  # which goes first is the words', not one reading
        ("9 plus 11, then times the result by 5", "11 + 5"),  # not the first numbers said
        ("Add up 245, 118 and 37.", "245 + 118 + 37"),  # whole already
    ],
)
def test_a_calculation_that_is_whole_or_read_more_than_one_way_is_left(query, expression):
    call = ToolCall("calculate", {"expression": expression})
    assert as_said(query, call) == call
