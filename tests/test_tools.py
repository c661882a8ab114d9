"""The tool registry and the tools that compute: declarations, validation, each tool alone, call parsing.

Everything runs for real: google-genai derives the declarations, the store is SQLite in the
test's APPRENTICE_HOME, pint converts, simpleeval evaluates.
"""

import datetime as dt
import json
import os
import subprocess
import sys
import zoneinfo

import pytest
from click.testing import CliRunner

import assistant.tools as registry
from assistant.store import Store
from assistant.tools import ToolContext, ToolError, ToolResult, declarations, run, student_prompt, tools, validate
from assistant.tools.calls import ToolCall, format_call, has_call, parse_call
from assistant.tools.convert import CurrencyNeeded

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 11, 30, 14, 32, tzinfo=PARIS)  # a Monday


@pytest.fixture
def ctx(home):
    return ToolContext(store=Store(), now=NOW)


def sentence(message: str) -> bool:
    """What a user may be shown: one line, a full stop, no Python in it."""
    return "\n" not in message and message.endswith(".") and "Traceback" not in message and "Error" not in message


# -- the registry ---------------------------------------------------------------------------------


def test_every_tool_is_declared_from_its_function_without_ctx():
    found = tools()
    assert {"clock", "calculate", "convert", "note"} <= set(found)
    for name, tool in found.items():
        declaration = tool.declaration
        assert declaration["name"] == name and declaration["description"]
        assert declaration["parameters"]["type"] == "object"
        assert "ctx" not in declaration["parameters"]["properties"]
        json.dumps(declaration)  # a plain dict: what Gemini, the student and `apprentice tools` share
    assert found["convert"].required == ["value", "from_unit", "to_unit"]
    assert found["convert"].parameters["value"]["type"] == "number"
    assert found["note"].local_only and not found["calculate"].local_only


def test_declarations_are_what_google_genai_derives_and_are_used_identically(monkeypatch, tmp_path):
    # an empty cache: the registry derives again through google-genai, and gets what it had cached
    monkeypatch.setenv("APPRENTICE_CACHE", str(tmp_path / "cache"))
    registry._read_cache.cache_clear()
    try:
        for tool in tools().values():
            derived = registry._declare(tool.name, tool.function, _limits(tool))
            assert derived == tool.declaration
        assert (tmp_path / "cache" / "tool-declarations.json").exists()
    finally:
        registry._read_cache.cache_clear()
    # the same dicts feed Gemini's function declarations and the student's prompt
    gemini = {d.name: d for d in registry.gemini_tool().function_declarations}
    prompt = student_prompt()
    for declaration in declarations():
        assert gemini[declaration["name"]].parameters_json_schema == declaration["parameters"]
        assert gemini[declaration["name"]].description == declaration["description"]
        listed = f"{declaration['name']}({', '.join(declaration['parameters']['properties'])})"
        assert listed in prompt
    assert '<tool_call>{"name": "...", "arguments": {...}}</tool_call>' in prompt


# What `apprentice ask` and the chat app import first (the core), what `apprentice distill` does (its training),
# and a command that loads the timers before anything else.
FIRST_IMPORTS = (["assistant.core"], ["model.distill.training"], ["assistant.tools.timers", "assistant.tools.note"])


def test_the_student_is_asked_with_the_tool_list_it_was_taught_with(home):
    """The tool list is part of the student's system prompt: whatever a command happens to import first, the
    prompt is the same, so a lesson taught by `apprentice distill` is asked in its own words by `apprentice ask`."""
    env = {**os.environ, "APPRENTICE_STUDENT_TOOLS": "1"}
    prompts = set()
    for modules in FIRST_IMPORTS:
        code = (
            f"import {', '.join(modules)}\n"
            "from assistant import config\n"
            "from assistant.prompts import student_system_prompt\n"
            "print(student_system_prompt(config.load()))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        prompts.add(done.stdout)
    assert len(prompts) == 1, prompts
    listed = prompts.pop()
    assert listed.index("clock(") < listed.index("calculate(") < listed.index("note(") < listed.index("timer(")


def _limits(tool) -> dict:
    return {
        k: (v.get("minimum"), v.get("maximum")) for k, v in tool.parameters.items() if "minimum" in v or "maximum" in v
    }


@pytest.fixture
def bounded(monkeypatch):
    """A throwaway tool with a range, registered for one test only."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(tools()))

    @registry.tool("steep", limits={"minutes": (1, 60)})
    def steep(ctx: ToolContext, minutes: int, strength: str = "medium", milk: bool = False) -> ToolResult:
        """Steep tea.

        Args:
          minutes: how long
          strength: how strong
        """
        return ToolResult("steep", {"minutes": minutes}, {"minutes": minutes}, f"Steeping for {minutes}.", "tea")

    return registry._REGISTRY["steep"]


def test_validation_coerces_what_models_write_and_states_ranges(bounded):
    assert bounded.parameters["minutes"] == {"type": "integer", "description": "how long", "minimum": 1, "maximum": 60}
    assert validate("steep", {"minutes": "10"}) == {"minutes": 10}
    assert validate("steep", {"minutes": 10.0, "milk": "yes", "strength": None}) == {"minutes": 10, "milk": True}
    assert validate("convert", {"value": "2.5", "from_unit": "km", "to_unit": 5}) == {
        "value": 2.5,
        "from_unit": "km",
        "to_unit": "5",
    }
    assert validate("timer", {"action": "LIST"})["action"] == "list"  # an enum, whatever its case


@pytest.mark.parametrize(
    "name, arguments, words",
    [
        ("steep", {"minutes": 0}, "at least 1"),
        ("steep", {"minutes": 600}, "at most 60"),
        ("steep", {"minutes": "ten"}, "whole number"),
        ("steep", {"minutes": 2.5}, "whole number"),
        ("steep", {}, "needs the argument 'minutes'"),
        ("steep", {"minutes": 3, "sugar": 2}, "no argument 'sugar'"),
        ("steep", {"minutes": 3, "milk": "maybe"}, "true or false"),
        ("steep", {"minutes": float("nan")}, "finite"),
        ("convert", {"value": [1], "from_unit": "km", "to_unit": "m"}, "must be a number"),
        ("timer", {"action": "explode"}, "must be one of set, list, cancel"),
        ("shell", {"command": "rm -rf /"}, "no tool called 'shell'"),
        ("__import__", {}, "no tool called"),
    ],
)
def test_a_call_that_does_not_validate_gets_one_sentence_and_never_runs(bounded, ctx, name, arguments, words):
    with pytest.raises(ToolError) as caught:
        run(name, arguments, ctx)
    assert words in str(caught.value) and sentence(str(caught.value))
    assert caught.value.exit_code == 2


def test_run_returns_the_tools_own_rendering(bounded, ctx):
    result = run("steep", {"minutes": "4"}, ctx)
    assert (result.text, result.arguments, result.badge) == ("Steeping for 4.", {"minutes": 4}, "tea")
    assert json.loads(json.dumps(result.to_dict()))["data"] == {"minutes": 4}


def test_apprentice_tools_lists_each_tool_and_prints_declarations_as_json():
    from assistant.cli import cli

    listing = CliRunner().invoke(cli, ["tools"])
    assert listing.exit_code == 0
    for name in ("clock", "calculate", "convert", "note"):
        assert f"{name}: " in listing.output
    assert "from_unit (string)" in listing.output and "stays on this machine" in listing.output
    as_json = CliRunner().invoke(cli, ["tools", "--json"])
    assert json.loads(as_json.output) == declarations()


# -- clock ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, text",
    [
        ({}, "It's 14:32 on Monday, 30 November 2026."),
        ({"place": "New York"}, "In New York it's 08:32 (America/New_York)."),
        ({"place": "tokyo"}, "In Tokyo it's 22:32 (Asia/Tokyo)."),
        ({"place": "Auckland"}, "In Auckland it's 02:32 on Tuesday, 1 December 2026 (Pacific/Auckland)."),
        ({"place": "Asia/Kolkata"}, "In Asia/Kolkata it's 19:02 (Asia/Kolkata)."),
        ({"place": "San Francisco"}, "In San Francisco it's 05:32 (America/Los_Angeles)."),
        # today's date alone is answered as the time and date now: one answer for "what's the date today?"
        ({"date": "today"}, "It's 14:32 on Monday, 30 November 2026."),
        ({"date": "November 30", "place": "Tokyo"}, "In Tokyo it's 22:32 (Asia/Tokyo)."),
        # and so are the days until today, and a "place" that names none: the questions were the date or time now
        ({"to_date": "today"}, "It's 14:32 on Monday, 30 November 2026."),
        ({"to_date": "November 30"}, "It's 14:32 on Monday, 30 November 2026."),
        ({"place": "today"}, "It's 14:32 on Monday, 30 November 2026."),
        ({"place": "Time"}, "It's 14:32 on Monday, 30 November 2026."),
        (
            {"date": "2026-11-01", "to_date": "today"},
            "From 1 November 2026 to 30 November 2026 is 29 days (4 weeks and 1 day).",
        ),
        ({"date": "2027-03-01"}, "1 March 2027 is a Monday."),
        ({"date": "christmas"}, "Christmas, 25 December 2026, is a Friday."),  # a holiday is said back by name
        ({"date": "Good Friday"}, "Good Friday, 26 March 2027, is a Friday."),  # feasts move with Easter
        ({"to_date": "easter"}, "Easter, 28 March 2027, is in 118 days (16 weeks and 6 days)."),
        ({"date": "Easter next year"}, "Easter, 28 March 2027, is a Sunday."),
        (
            {"date": "last Easter", "to_date": "today"},
            "From 5 April 2026 to 30 November 2026 is 239 days (34 weeks and 1 day).",
        ),
        ({"date": "Pentecost"}, "Pentecost, 16 May 2027, is a Sunday."),
        ({"date": "1969-07-20"}, "20 July 1969 was a Sunday."),
        ({"to_date": "December 25"}, "25 December 2026 is in 25 days (3 weeks and 4 days)."),
        ({"to_date": "tomorrow"}, "1 December 2026 is in 1 day."),
        ({"to_date": "end of the month"}, "It's 14:32 on Monday, 30 November 2026."),  # the last day: today
        ({"to_date": "end of year"}, "31 December 2026 is in 31 days (4 weeks and 3 days)."),
        ({"date": "Christmas last year"}, "Christmas, 25 December 2025, was a Thursday."),
        # "last": the latest one before today (the fixed NOW is Monday 30 November 2026)
        (
            {"date": "last Christmas", "to_date": "today"},
            "From 25 December 2025 to 30 November 2026 is 340 days (48 weeks and 4 days).",
        ),
        ({"date": "last Monday"}, "23 November 2026 was a Monday."),
        ({"date": "last November 30"}, "30 November 2025 was a Sunday."),
        ({"to_date": "December 13"}, "13 December 2026 is in 13 days."),  # under two weeks: days alone
        ({"to_date": "December 14"}, "14 December 2026 is in 14 days (2 weeks)."),
        ({"date": "2026-12-31", "to_date": "2026-01-01"}, "From 31 December 2026 to 1 January 2026 is -364 days."),
        (
            {"date": "2026-01-01", "to_date": "2026-12-31"},
            "From 1 January 2026 to 31 December 2026 is 364 days (52 weeks).",
        ),
        ({"date": "Saturday", "days": 4}, "4 days after Saturday, 5 December 2026 is Wednesday, 9 December 2026."),
        ({"date": "Sunday", "days": 1}, "The day after Sunday, 6 December 2026 is Monday, 7 December 2026."),
        ({"date": "Friday", "days": "-1"}, "The day before Friday, 4 December 2026 is Thursday, 3 December 2026."),
        ({"days": 90}, "In 90 days it will be Sunday, 28 February 2027."),
        ({"days": -3}, "3 days ago it was Friday, 27 November 2026."),
        # a month by itself: all there is to know of it, so whichever was asked is in the answer
        ({"date": "April"}, "April is the 4th month of the year, after March and before May, and has 30 days."),
        (
            {"date": "the sixth month of the year"},
            "June is the 6th month of the year, after May and before July, and has 30 days.",
        ),
        (
            {"date": "last month of the year"},
            "December is the 12th month of the year, after November and before January, and has 31 days.",
        ),
        (
            {"date": "last month"},
            "October is the 10th month of the year, after September and before November, and has 31 days.",
        ),
        (
            {"date": "February"},
            "February is the 2nd month of the year, after January and before March, and has 28 days, or 29 in a "
            "leap year (the next is 2028).",
        ),
        (
            {"date": "feb 2028"},
            "February is the 2nd month of the year, after January and before March; in 2028 it has 29 days "
            "(a leap year).",
        ),
        ({"date": "May 3"}, "3 May 2027 is a Monday."),  # a day of the month is a date, as before
        ({"to_date": "April"}, "1 April 2027 is in 122 days (17 weeks and 3 days)."),  # until a month: its first day
        # months on or back: from a month alone, a month; from a date or today, a date
        ({"date": "September", "months": 5}, "5 months after September is February."),
        ({"date": "March", "months": -4}, "4 months before March is November."),
        ({"date": "September 2027", "months": 5}, "5 months after September 2027 is February 2028."),
        ({"months": 3}, "In 3 months it will be Sunday, 28 February 2027."),  # no 30 February: its last day
        ({"months": -2}, "2 months ago it was Wednesday, 30 September 2026."),
        ({"date": "2027-01-31", "months": 1}, "1 month after 31 January 2027 is Sunday, 28 February 2027."),
        ({"months": 1, "days": 2}, "In 1 month and 2 days it will be Friday, 1 January 2027."),
    ],
)
def test_clock(ctx, arguments, text):
    assert run("clock", arguments, ctx).text == text


def test_a_months_facts_come_as_data_too(ctx):
    result = run("clock", {"date": "next month"}, ctx)  # the fixed now is in November 2026
    assert result.data == {
        "month": "December",
        "number": 12,
        "days": 31,
        "before": "November",
        "after": "January",
        "year": 2026,
    }
    assert result.badge == "clock · December, 31 days"


def test_a_month_counted_on_from_a_month_comes_as_data_too(ctx):
    result = run("clock", {"date": "October", "months": 3}, ctx)
    assert result.data["month"] == "January" and result.data["from"] == "October" and result.data["months"] == 3
    dated = run("clock", {"months": 3}, ctx).data
    assert dated["date"] == "2027-02-28" and dated["month"] == "February" and dated["weekday"] == "Sunday"


def test_clock_data_is_the_machines_time_in_the_users_zone(ctx):
    result = run("clock", {}, ctx)
    assert result.data == {"time": "14:32", "date": "2026-11-30", "weekday": "Monday", "zone": "Europe/Paris"}
    assert result.badge == "clock · 14:32"


@pytest.mark.parametrize(
    "arguments, words",
    [
        ({"place": "Narnia"}, "I don't know the time zone of 'Narnia'"),
        ({"place": "hours", "days": 2}, "I don't know the time zone of 'hours'"),  # read even where unused
        ({"date": "the day after never"}, "I cannot read the date"),
        ({"date": "February 30 2026"}, "There is no such date"),
        ({"date": "the thirteenth month"}, "I cannot read the date"),
        ({"date": "month 13"}, "I cannot read the date"),
        ({"days": 2.5}, "The argument 'days' of clock must be a whole number"),
        ({"days": 99999}, "The clock counts at most 36,500 days"),
        ({"days": 3, "to_date": "Friday"}, "The clock counts days on from a date or the days until one"),
        ({"months": 2, "to_date": "Friday"}, "The clock counts months on from a date or the days until one"),
        ({"months": 99999}, "The clock counts at most 1,200 months"),
        ({"months": 2, "days": -3}, "The clock counts months and days the same way"),
        ({"date": "December 1 9999", "months": 100}, "That lies outside the calendar"),
        ({"date": "December 1 9999", "days": 100}, "That lies outside the calendar"),
    ],
)
def test_clock_cannot(ctx, arguments, words):
    with pytest.raises(ToolError) as caught:
        run("clock", arguments, ctx)
    assert str(caught.value).startswith(words) and sentence(str(caught.value))


# -- calculate ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression, text",
    [
        ("17 * 23", "17 × 23 = 391"),
        ("17 times 23", "17 × 23 = 391"),
        ("What is 17 times 23?", "17 × 23 = 391"),
        ("nine times seven", "9 × 7 = 63"),  # as a model copies the user's words into its call
        ("three hundred and twelve divided by eight", "312 ÷ 8 = 39"),
        ("twenty five plus sixteen", "25 + 16 = 41"),
        ("17 x 23", "17 × 23 = 391"),
        ("15% of 80", "15% × 80 = 12"),
        ("80 + 15%", "80 × (1 + 15%) = 92"),
        ("0.1 + 0.2", "0.1 + 0.2 = 0.3"),  # exact: fractions, not floats
        ("2^100", "2^100 = 1267650600228229401496703205376"),
        ("square root of 144", "√144 = 12"),
        ("sqrt(2)", "√2 ≈ 1.41421356237"),
        ("cube root of 27", "∛27 = 3"),
        ("10 / 4", "10 ÷ 4 = 2.5"),
        ("10 divided by 3", "10 ÷ 3 ≈ 3.33333333333"),
        ("(2 + 3) ^ 2", "(2 + 3)^2 = 25"),
        ("3 - -2", "3 − (-2) = 5"),
        ("1,000 * 3", "1000 × 3 = 3000"),
        ("5!", "5! = 120"),
        ("25 squared", "25^2 = 625"),
        ("123456789 * 987654321", "123456789 × 987654321 = 121,932,631,112,635,269"),
    ],
)
def test_calculate(ctx, expression, text):
    assert run("calculate", {"expression": expression}, ctx).text == text


@pytest.mark.parametrize(
    "expression, words",
    [
        ("1 / 0", "Division by zero has no answer."),
        ("9 ** 9 ** 9", "Exponents are limited"),
        ("10 ** 5000", "more than 1000 digits"),
        ("1000!", "Factorials are limited"),
        ("round(1, 1000000000)", "Round to between 0 and 15 decimal places."),
        ("(1/7)^5000", "more than 1000 digits"),
        ("sqrt(-1)", "no real answer"),
        ("the weather", "I don't know 'weather'"),
        ("2 +* 3", "I cannot read"),
        ("__import__('os').system('true')", "I cannot compute"),
        ("__import__('os')", "I don't know '__import__'"),
        ("'a' * 10", "That is not arithmetic."),
        ("[1, 2] * 3", "I cannot compute"),
        ("(lambda: 1)()", "I cannot compute"),
        ("1 < 2", "I cannot compute"),
    ],
)
def test_calculate_refuses_in_a_sentence_and_never_evaluates_python(ctx, expression, words):
    with pytest.raises(ToolError) as caught:
        run("calculate", {"expression": expression}, ctx)
    assert words in str(caught.value) and sentence(str(caught.value))


# -- convert --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, source, target, text",
    [
        (5, "miles", "km", "5 miles = 8.05 km"),
        (100, "celsius", "fahrenheit", "100 °C = 212 °F"),  # an offset, not a factor
        (98.6, "°F", "C", "98.6 °F = 37 °C"),
        (0, "c", "k", "0 °C = 273.15 K"),  # exact in 2 decimals: shown so
        (1, "foot", "m", "1 foot = 0.305 m"),  # 0.3048: 3 significant digits
        (1, "mile", "m", "1 mile = 1,609 m"),
        (150, "lbs", "kg", "150 lbs = 68 kg"),
        (2, "cups", "ml", "2 cups = 473 ml"),
        (8, "fl oz", "ml", "8 fl oz = 237 ml"),
        (1, "cup", "ounces", "1 cup = 8 fl oz"),  # beside a volume an ounce is a fluid ounce, and says so
        (8, "oz", "ml", "8 fl oz = 237 ml"),
        (16, "ounces", "grams", "16 ounces = 454 grams"),  # beside a mass, the ounce of weight
        (5, "k", "miles", "5 km = 3.11 miles"),  # a 5k: beside a length, k is kilometres
        (300, "k", "celsius", "300 K = 26.85 °C"),  # beside a temperature, kelvin
        (30, "miles per hour", "km an hour", "30 miles per hour = 48.3 km an hour"),
        (180, "cm", "feet and inches", "180 cm = 5 ft 10.9 in"),  # a height as people say it
        (182.87, "cm", "ft and in", "182.87 cm = 6 ft 0 in"),  # 71.996 inches: not 5 ft 12 in
        (60, "mph", "km/h", "60 mph = 96.6 km/h"),
        (500, "square feet", "m²", "500 square feet = 46.5 m²"),
        (1, "acre", "hectares", "1 acre = 0.405 hectares"),
        (1, "GB", "MB", "1 GB = 1,000 MB"),
        (1, "GiB", "MiB", "1 GiB = 1,024 MiB"),
        (3, "hours", "minutes", "3 hours = 180 minutes"),
        (1, "kWh", "kcal", "1 kWh = 860 kcal"),
        (5, "US gallons", "liters", "5 US gallons = 18.9 liters"),  # pint's gallon is the US one
        (2, "U.S. cups", "ml", "2 U.S. cups = 473 ml"),
        (1, "UK pint", "ml", "1 UK pint = 568 ml"),
    ],
)
def test_convert(ctx, value, source, target, text):
    assert run("convert", {"value": value, "from_unit": source, "to_unit": target}, ctx).text == text


def test_currencies_need_live_rates_and_say_so(ctx):
    for source, target in [("dollars", "euros"), ("USD", "JPY"), ("pounds", "euros"), ("GBP", "SGD")]:
        with pytest.raises(CurrencyNeeded) as caught:
            run("convert", {"value": 100, "from_unit": source, "to_unit": target}, ctx)
        assert "exchange rates" in str(caught.value) and sentence(str(caught.value))
        assert isinstance(caught.value, ToolError)
    # "pounds" next to a mass is a mass
    assert run("convert", {"value": 5, "from_unit": "pounds", "to_unit": "kg"}, ctx).text == "5 pounds = 2.27 kg"


@pytest.mark.parametrize(
    "source, target, words",
    [
        ("florps", "km", "I don't know the unit 'florps'"),
        ("miles", "m!@#", "I don't know the unit 'm!@#'"),
        ("miles", "kg", "miles cannot become kg: a length is not a mass."),
    ],
)
def test_convert_cannot(ctx, source, target, words):
    with pytest.raises(ToolError) as caught:
        run("convert", {"value": 5, "from_unit": source, "to_unit": target}, ctx)
    assert str(caught.value).startswith(words) and sentence(str(caught.value))


@pytest.mark.parametrize("module", ["calculate", "convert", "clock", "note"])
def test_a_tool_module_asked_for_help_describes_itself_and_runs_nothing(tmp_path, module):
    env = {**os.environ, "APPRENTICE_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", f"assistant.tools.{module}", "--help"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0 and f"python -m assistant.tools.{module}" in done.stdout, done.stderr
    assert "Noted" not in done.stdout and not (tmp_path / "apprentice.db").exists()  # no note of "--help"


@pytest.mark.parametrize(
    "module, args, says",
    [
        ("convert", [], "usage: python -m assistant.tools.convert AMOUNT FROM_UNIT TO_UNIT"),
        ("convert", ["five", "miles", "km"], "'five' is not a number"),
        ("convert", ["5", "florps", "km"], "I don't know the unit 'florps'"),
        ("calculate", ["1/0"], "Division by zero has no answer."),
        ("clock", ["Narnia"], "I don't know the time zone of 'Narnia'"),
    ],
)
def test_a_tool_run_from_its_module_says_what_was_wrong_in_a_sentence(tmp_path, module, args, says):
    env = {**os.environ, "APPRENTICE_HOME": str(tmp_path)}
    command = [sys.executable, "-m", f"assistant.tools.{module}", *args]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 1 and says in done.stderr and "Traceback" not in done.stderr, done.stderr


# -- note -----------------------------------------------------------------------------------------


def test_notes_are_remembered_and_found_by_their_words(ctx):
    assert run("note", {"text": "The boiler code is 4312"}, ctx).text == "Noted: The boiler code is 4312"
    run("note", {"text": "Boilers get serviced in March"}, ctx)
    run("note", {"text": "Dentist on Friday at 9"}, ctx)
    found = run("note", {"find": "what did I note about the boiler?"}, ctx)
    assert [n["text"] for n in found.data["notes"]] == ["Boilers get serviced in March", "The boiler code is 4312"]
    assert found.text.startswith("Your notes about boiler:") and found.badge == "note · 2 found"
    # the note's time is the real clock's: "today" is today where the user is, not the fixed NOW's date
    one = run("note", {"find": "dentist"}, ToolContext(store=ctx.store, now=dt.datetime.now(PARIS)))
    assert one.text.startswith("You noted today at") and one.text.endswith(": Dentist on Friday at 9")
    assert run("note", {"find": "cats"}, ctx).text == "No note mentions cats."
    assert len(run("note", {}, ctx).data["notes"]) == 3  # no words: the latest notes
    # kept in the store's own table, searchable after a restart
    assert [n["text"] for n in Store().find_notes(["4312"])] == ["The boiler code is 4312"]


def test_the_notes_holding_every_word_asked_about_come_alone(ctx):
    run("note", {"text": "my locker is number 214"}, ctx)
    run("note", {"text": "the plumber's number is 555 0199"}, ctx)
    found = run("note", {"find": "locker number"}, ctx)
    assert [n["text"] for n in found.data["notes"]] == ["my locker is number 214"]
    # no note holds both words: each that holds one, as before
    assert len(run("note", {"find": "phone number"}, ctx).data["notes"]) == 2


def test_a_note_search_takes_any_user_text(ctx):
    run("note", {"text": 'Wi-Fi "guest" password: x7#K!'}, ctx)
    for query in ['"guest"', "wi-fi", "x7#K!", "password: AND OR NOT", "*"]:
        run("note", {"find": query}, ctx)  # never FTS syntax errors
    assert run("note", {"find": "guest"}, ctx).data["notes"][0]["text"] == 'Wi-Fi "guest" password: x7#K!'


def test_a_note_either_remembers_or_finds(ctx):
    with pytest.raises(ToolError) as caught:
        run("note", {"text": "a", "find": "b"}, ctx)
    assert sentence(str(caught.value))


# -- tool calls as text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, call",
    [
        (
            '<tool_call>{"name": "calculate", "arguments": {"expression": "17 * 23"}}</tool_call>',
            ("calculate", {"expression": "17 * 23"}),
        ),
        ('Sure! <tool_call>{"name": "clock", "arguments": {}}</tool_call> Here you go.', ("clock", {})),
        (
            "<tool_call>{'name': 'convert', 'arguments': {'value': 5, 'from_unit': 'mi', 'to_unit': 'km'}}</tool_call>",
            ("convert", {"value": 5, "from_unit": "mi", "to_unit": "km"}),
        ),
        ('<tool_call>{"name": "timer", "arguments": {"minutes": 10,},}</tool_call>', ("timer", {"minutes": 10})),
        ('<tool_call>{"name": "timer", "arguments": {"minutes": 10}}', ("timer", {"minutes": 10})),  # no closing tag
        ('<tool_call>{"name": "timer", "arguments": {"minutes": 10}', ("timer", {"minutes": 10})),  # nor brace
        (
            '<tool_call>{"name": "note", "arguments": "{\\"text\\": \\"milk\\"}"}</tool_call>',
            ("note", {"text": "milk"}),
        ),
        (
            "<tool_call>{name: 'note', arguments: {find: 'boiler', extra: None, flag: True}}</tool_call>",
            ("note", {"find": "boiler", "extra": None, "flag": True}),
        ),
        ('<TOOL_CALL> {"name": "clock", "arguments": {"place": "Tokyo"}} </TOOL_CALL>', ("clock", {"place": "Tokyo"})),
        ('<tool_call>{"name": "clock"}</tool_call>', ("clock", {})),
        ('{"name": "clock", "arguments": {}}', ("clock", {})),  # a bare call, tags dropped
        ('```json\n{"name": "clock", "arguments": {}}\n```', ("clock", {})),
        (
            '<tool_call>{"name": "note", "arguments": {"text": "it\'s {here}"}}</tool_call>',
            ("note", {"text": "it's {here}"}),
        ),
    ],
)
def test_parse_call_reads_what_small_models_emit(text, call):
    assert parse_call(text) == ToolCall(*call)


@pytest.mark.parametrize(
    "text",
    [
        "17 × 23 = 391",
        "",
        "I would use a tool here.",
        'The JSON {"a": 1} is an object.',
        "<tool_call>not json at all</tool_call>",
        '<tool_call>{"arguments": {}}</tool_call>',  # no name
        '<tool_call>{"name": "note", "arguments": {"text": "cut off in the mid',  # a value cut off: not guessed
        '<tool_call>{"name": "clock", "arguments": [1, 2]}</tool_call>',
    ],
)
def test_parse_call_returns_none_when_there_is_no_readable_call(text):
    assert parse_call(text) is None


def test_an_unreadable_call_can_be_told_apart_from_no_call():
    assert has_call("<tool_call>garbage") and not has_call("no call here")
    with pytest.raises(ToolError) as caught:
        parse_call("<tool_call>garbage</tool_call>", strict=True)
    assert sentence(str(caught.value))
    assert parse_call("no call here", strict=True) is None


def test_format_call_is_the_canonical_text_and_parses_back():
    call = ToolCall("convert", {"value": 5, "from_unit": "°F", "to_unit": "°C"})
    text = format_call(call)
    assert (
        text
        == '<tool_call>{"name": "convert", "arguments": {"value": 5, "from_unit": "°F", "to_unit": "°C"}}</tool_call>'
    )
    assert parse_call(text) == call


@pytest.mark.integration
def test_the_student_prompt_is_small_for_the_default_students_tokenizer(default_checkpoint):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(default_checkpoint))
    assert len(tokenizer.encode(student_prompt())) < 120


def test_the_computing_tools_open_no_connection_and_start_no_process(ctx, monkeypatch):
    import os
    import socket
    import subprocess

    def refuse(*args, **kwargs):
        raise AssertionError("a tool tried to reach the network or start a process")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "system", refuse)
    monkeypatch.setattr(os, "popen", refuse)
    calls = [
        ("clock", {"place": "Tokyo"}),
        ("clock", {"date": "2027-03-01", "to_date": "christmas"}),
        ("calculate", {"expression": "sqrt(2) * 15% of 80"}),
        ("convert", {"value": 5, "from_unit": "miles", "to_unit": "km"}),
        ("note", {"text": "the boiler code is 4312"}),
        ("note", {"find": "boiler"}),
    ]
    for name, arguments in calls:
        assert run(name, arguments, ctx).text
