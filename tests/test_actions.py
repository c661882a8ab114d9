"""Actions through the Assistant: a tool call chosen by a sentence template, the student or the
teacher is validated and run on this machine, and its rendered result is the answer.

The fast path runs with the real tiny student loaded (it answers nothing here: templates
answer first). A random tiny model never writes a call, so the student's calls come from
`ScriptedStudent`: the real `StudentResponse`, fed the tokens a trained student writes,
through the same parsing and the same core path.
"""

import datetime as dt
import json
import re

import pytest

from assistant import config
from assistant.core import Assistant, for_teacher
from assistant.engine import Token
from assistant.store import Store
from assistant.student import _DONE, StudentResponse, repeating
from tests.conftest import sent_requests


def answer(assistant, query, **kw):
    ans = assistant.answer(query, **kw)
    chunks = list(ans)
    return ans, "".join(chunks)


@pytest.fixture
def assistant(tiny_student):
    a = Assistant(config.load({"mode": "private"}))
    yield a
    a.close()


# -- the fast path ---------------------------------------------------------------------------


def test_arithmetic_is_computed_not_guessed(assistant):
    ans, text = answer(assistant, "what is 17 times 23")
    assert "391" in text and ans.result()["action"]["name"] == "calculate"
    assert ans.decision.route == "local" and "sentence template" in ans.decision.reason
    assert ans.result()["action"]["result"] is not None


def test_the_time_comes_from_this_machines_clock(assistant):
    before = dt.datetime.now().astimezone()
    ans, text = answer(assistant, "what time is it")
    after = dt.datetime.now().astimezone()
    shown = {f"{t:%H:%M}" for t in (before, after)} | {f"{t:%-I:%M}" for t in (before, after)}
    assert any(s in text for s in shown), text
    assert ans.result()["action"]["name"] == "clock" and ans.result()["route"] == "local"


def test_units_are_converted(assistant):
    ans, text = answer(assistant, "convert 5 miles to km")
    assert "8.05" in text and "km" in text and ans.result()["action"]["name"] == "convert"


def test_a_timer_is_stored_and_logged_with_its_action(assistant):
    ans, text = answer(assistant, "set a timer for 10 minutes")
    assert "10 minutes" in text
    (timer,) = Store().timers()
    assert timer["kind"] == "timer" and timer["status"] == "pending"
    turn = Store().turn(ans.turn_id)
    assert json.loads(turn["action"])["name"] == "timer" and turn["answer"].strip() == text.strip()


def test_a_note_is_kept_and_found_and_its_turns_never_leave(assistant):
    answer(assistant, "remember that the boiler code is 4411")
    ans, text = answer(assistant, "what did I note about the boiler?")
    assert "4411" in text and ans.result()["action"]["name"] == "note"


def test_the_fast_path_can_be_turned_off(tiny_student):
    a = Assistant(config.load({"mode": "private", "fast_path": False, "max_tokens": 8}))
    try:
        ans, _ = answer(a, "what is 17 times 23")
    finally:
        a.close()
    assert ans.result()["action"] is None and "sentence template" not in ans.decision.reason


# -- honest when it cannot know ------------------------------------------------------------


def test_live_information_in_private_mode_gets_a_short_true_answer(assistant):
    ans, text = answer(assistant, "What's the weather in Paris tomorrow?")
    assert text.startswith("I can't know that on this machine") and "apprentice keys set gemini" in text
    assert ans.result()["tokens"] == 0 and ans.result()["route"] == "local"


# -- calls the student writes ---------------------------------------------------------------


class ScriptedStudent:
    """The student's response object, fed the tokens a trained student writes (a tiny random model writes none)."""

    def __init__(self, name: str, tokens: list[str]):
        self.name, self.tokens = name, tokens

    def stream(self, messages, conversation=None, max_tokens=512):
        response = StudentResponse(self.name, messages, conversation, max_tokens)
        for text in self.tokens:
            response._queue.put(Token(text, -0.01))
        response.usage.tokens = len(self.tokens)
        response._queue.put(_DONE)
        return response

    def close(self):
        pass


@pytest.fixture
def scripted(tiny_student):
    a = Assistant(config.load({"mode": "private", "fast_path": False}))
    real_student = a.student

    def script(*tokens):
        scripted = ScriptedStudent(real_student().name, list(tokens))
        a.student = lambda version=None: scripted

    yield a, script
    a.close()


def test_the_students_call_is_run_and_its_text_never_shown(scripted):
    a, script = scripted
    script("<", "tool", "_call", ">{'name': 'calculate', ", "'arguments': {'expression': '17*23',}}", "</tool_call>")
    ans = a.answer("multiply seventeen by twenty-three")
    chunks = list(ans)
    assert not any("tool_call" in c or "{" in c for c in chunks)
    assert "391" in "".join(chunks) and ans.result()["action"]["name"] == "calculate"


def test_a_call_that_does_not_keep_what_was_asked_says_so_when_no_teacher_can_be_asked(scripted):
    a, script = scripted
    script('<tool_call>{"name": "calculate", "arguments": {"expression": "935 - 8"}}</tool_call>')
    ans, text = answer(a, "Split 935 by 8 and tell me the result.")
    notes = ans.result()["notes"]
    assert "927" in text and any("may not be what you asked" in n and "divide" in n for n in notes)
    script('<tool_call>{"name": "calculate", "arguments": {"expression": "935 / 8"}}</tool_call>')
    ans, text = answer(a, "Split 935 by 8 and tell me the result.")
    assert "116.875" in text and not any("may not be" in n for n in ans.result()["notes"])


def test_words_shown_false_carry_a_note_saying_what_this_machine_shows(scripted):
    a, script = scripted
    script("The day before Friday ", "is Sunday.")
    ans, text = answer(a, "Which day of the week comes just before Friday?")
    notes = ans.result()["notes"]
    assert text == "The day before Friday is Sunday."  # private mode: the student's words, as they came
    assert any(n.startswith("This may be wrong") and "Thursday" in n for n in notes), notes
    script("The day before Friday ", "is Thursday.")
    ans, text = answer(a, "Which day of the week comes just before Friday?")
    assert not any("may be wrong" in n for n in ans.result()["notes"])


def alarm_minute(time: str) -> str:
    return time.partition(":")[2] or "00"


@pytest.mark.parametrize(
    "query, time, hour",
    [
        ("Get me up at 5:45 in the morning.", "5:45", 5),
        ("Could you set an alarm at nine in the evening?", "9", 21),
        ("Rouse me at 11 am.", "11:00", 11),
    ],
)
def test_a_clock_time_the_call_leaves_in_either_half_rings_in_the_half_said(scripted, query, time, hour):
    import datetime as dt

    a, script = scripted
    script(f'<tool_call>{{"name": "alarm", "arguments": {{"time": "{time}"}}}}</tool_call>')
    ans, text = answer(a, query)
    (alarm,) = Store().timers()
    assert dt.datetime.fromisoformat(alarm["due"]).astimezone().hour == hour, (text, alarm)
    assert ans.result()["action"]["arguments"]["time"] == f"{hour:02d}:{alarm_minute(time)}"
    Store().cancel_timer(alarm["id"])


def test_a_call_out_of_range_or_to_no_tool_runs_nothing(scripted):
    a, script = scripted
    script('<tool_call>{"name": "timer", "arguments": {"minutes": -5}}</tool_call>')
    ans, text = answer(a, "timer minus five")
    assert (
        Store().timers() == [] and text == ans.result()["action"]["error"] and ans.result()["action"]["result"] is None
    )
    script('<tool_call>{"name": "shell", "arguments": {"command": "rm -rf /"}}</tool_call>')
    ans, text = answer(a, "clean up")
    assert "no tool called 'shell'" in text and ans.result()["action"]["result"] is None


def test_a_unit_pint_does_not_know_is_named_in_a_sentence(scripted):
    a, script = scripted
    script(
        '<tool_call>{"name": "convert", "arguments": {"value": 5, "from_unit": "flubs", "to_unit": "km"}}</tool_call>'
    )
    ans, text = answer(a, "convert 5 flubs to km")
    assert "flubs" in text and ans.result()["action"]["result"] is None and ans.result()["action"]["error"] == text


def test_an_unreadable_call_is_a_sentence(scripted):
    a, script = scripted
    script("<tool_call>{{{ not json")
    ans, text = answer(a, "do it")
    assert "could not be read" in text and ans.result()["action"]["name"] is None


# -- what may leave --------------------------------------------------------------------------


def test_the_history_sent_to_the_teacher_holds_calls_never_results_nor_notes():
    history = [
        {"role": "user", "content": "remember that the boiler code is 4411", "private": True},
        {"role": "assistant", "content": "Noted.", "action": {"name": "note", "arguments": {}}, "private": True},
        {"role": "user", "content": "what is 17 times 23"},
        {
            "role": "assistant",
            "content": "17 × 23 = 391",
            "action": {"name": "calculate", "arguments": {"expression": "17*23"}},
        },
        {"role": "user", "content": "and the capital of France?"},
    ]
    sent = for_teacher(history)
    text = json.dumps(sent)
    assert "4411" not in text and "boiler" not in text and "391" not in text
    assert sent[0]["content"] == "what is 17 times 23" and "<tool_call>" in sent[1]["content"]
    assert sent[-1] == {"role": "user", "content": "and the capital of France?"}


# -- loops -----------------------------------------------------------------------------------


def test_a_repeating_answer_is_recognised_and_a_varied_one_is_not():
    sentence = list(range(100, 115))
    assert repeating([1, 2, 3] + sentence * 3)
    assert not repeating([1, 2, 3] + sentence * 2)
    assert repeating([7] * 24) and not repeating([7] * 23)
    assert not repeating(list(range(500)))


def test_apprentice_ask_answers_arithmetic_in_json(capsys, tiny_student):
    from assistant.cli import main

    code = main(["ask", "what is 17 times 23", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and re.search(r"\b391\b", data["answer"]) and data["action"]["name"] == "calculate"


# -- calls the teacher makes (the real SDK over HTTP against fake-gemini) ----------------------

TIMER_PLEASE = "Could you start a countdown of ten minutes for the pasta, please?"


def test_the_teachers_call_runs_here_and_neither_its_result_nor_a_note_leaves(tiny_student, gemini):
    from tests.conftest import sent_requests

    fake = gemini(answers=[{"query": TIMER_PLEASE, "call": {"name": "timer", "arguments": {"minutes": "10"}}}])
    a = Assistant(config.load({"mode": "auto", "fast_path": False, "router_prior": 0.9}))
    try:
        note, _ = answer(a, "remember that the alarm code is 4411")
        ans, text = answer(a, TIMER_PLEASE, conversation_id=note.conversation_id, force="cloud")
        again, _ = answer(a, "And how long do pasta usually cook?", conversation_id=ans.conversation_id, force="cloud")
    finally:
        a.close()
    assert ans.decision.route == "cloud" and ans.result()["action"]["name"] == "timer"
    assert "10 minutes" in text and ans.result()["action"]["arguments"]["seconds"] == 600  # as it ran
    (timer,) = Store().timers()
    assert timer["kind"] == "timer"
    (example,) = [e for e in Store().examples(limit=None) if e["query_sent"] == TIMER_PLEASE]
    assert example["status"] == "ok" and '<tool_call>{"name": "timer"' in example["teacher_answer"]
    requests = sent_requests(fake)
    assert len(requests) == 2  # the note never went; both timer turns did
    everything_sent = json.dumps(requests)
    assert "4411" not in everything_sent and "alarm code" not in everything_sent  # the note stayed
    assert text.strip() not in everything_sent and "rings at" not in everything_sent  # the result stayed
    history_sent = requests[1]["body"]["contents"]
    assert any("functionCall" in part for c in history_sent for part in c["parts"])
    assert again.decision.route in ("cloud", "local")


def test_a_note_stays_on_this_machine_even_when_the_teacher_is_asked_for(tiny_student, gemini):
    from tests.conftest import sent_requests

    fake = gemini(answers={})
    a = Assistant(config.load({"mode": "auto"}))
    try:
        ans, text = answer(a, "remember that my locker code is 2719", force="cloud")
    finally:
        a.close()
    assert ans.decision.route == "local" and ans.result()["action"]["name"] == "note"
    assert sent_requests(fake) == [] and Store().examples(limit=None) == []


def test_a_question_about_your_own_things_is_answered_from_your_notes_and_never_leaves(tiny_student, gemini):
    from tests.conftest import sent_requests

    fake = gemini(answers={"What's my phone number?": "I cannot know your phone number."})
    a = Assistant(config.load({"mode": "auto"}))
    try:
        answer(a, "remember that my locker is number 214")
        answer(a, "note that the gym opens at 6")
        ans, text = answer(a, "What's my locker number?")
        # no note holds "phone": asked as any question, in the same conversation, whose note turn stays here
        unnoted, _ = answer(a, "What's my phone number?", conversation_id=ans.conversation_id)
    finally:
        a.close()
    assert "my locker is number 214" in text and "gym" not in text
    assert ans.decision.rule == "notes" and ans.result()["action"]["name"] == "note"
    assert ans.result()["tokens"] == 0  # no model ran
    assert unnoted.decision.rule != "notes" and unnoted.result()["action"] is None
    sent = json.dumps(sent_requests(fake))
    assert "phone number" in sent and "locker" not in sent  # asked, and its conversation's note turn stayed
    assert Store().turn(ans.turn_id)["private"] == 1  # never trained on, never sent


def test_a_currency_is_not_converted_here_and_the_answer_says_why(assistant):
    ans, text = answer(assistant, "convert 100 dollars to euros")
    assert text.startswith("I can't know that on this machine") and "exchange rates" in text
    assert ans.result()["action"] is None and ans.decision.rule == "live"
    _, text = answer(assistant, "5 pounds in kg")  # pounds of mass are a unit, not money
    assert "kg" in text and "2.27" in text


def test_the_students_prompt_lists_every_tool_and_the_call_format_unless_turned_off(monkeypatch):
    from assistant.prompts import student_system_prompt
    from assistant.tools import tools

    monkeypatch.setenv("APPRENTICE_STUDENT_TOOLS", "1")
    prompt = student_system_prompt(config.load())
    assert prompt.startswith(config.system_prompt(config.load())) and "<tool_call>" in prompt
    assert all(f"{name}(" in prompt for name in tools())
    monkeypatch.setenv("APPRENTICE_STUDENT_TOOLS", "0")
    assert student_system_prompt(config.load()) == config.system_prompt(config.load())


@pytest.fixture
def scripted_auto(tiny_student, gemini):
    """An assistant in auto mode, a teacher to ask (the fake Gemini), and a scripted student."""
    fake = gemini(answers={})
    a = Assistant(config.load({"mode": "auto", "fast_path": False}))
    real_student = a.student

    def script(*tokens):
        scripted = ScriptedStudent(real_student().name, list(tokens))
        a.student = lambda version=None: scripted

    yield a, script, fake
    a.close()


def test_a_claim_the_calendar_shows_false_about_what_was_asked_is_answered_by_the_tool(scripted_auto):
    a, script, fake = scripted_auto
    script("The day after Tuesday ", "is Friday.")
    ans, text = answer(a, "What day comes after Tuesday?")
    assert "Wednesday" in text and "Friday" not in text
    assert ans.decision.route == "local" and ans.result()["action"]["name"] == "clock"
    assert sent_requests(fake) == []  # nothing left the machine
    # a false claim about something else is no answer here: the teacher is asked
    ans, text = answer(a, "What day comes before Tuesday?")
    assert ans.decision.route == "cloud" and len(sent_requests(fake)) == 1


def test_a_timer_the_student_left_unnamed_is_set_with_the_name_the_user_gave(scripted_auto):
    a, script, fake = scripted_auto
    script('<tool_call>{"name": "timer", "arguments": {"minutes": 40}}</tool_call>')
    ans, text = answer(a, "40 minute countdown for the laundry, please.")
    assert ans.result()["action"]["arguments"]["label"] == "laundry" and "laundry" in text
    script('<tool_call>{"name": "timer", "arguments": {"minutes": 7, "label": "minutes"}}</tool_call>')
    ans, text = answer(a, "Put 7 minutes on a countdown.")
    assert "“minutes”" not in text and "7 minutes" in text
    assert ans.decision.route == "local" and sent_requests(fake) == []
    assert sorted(t["label"] or "" for t in Store().timers()) == ["", "laundry"]  # "minutes" names nothing
