"""Teacher faults in `auto` mode, through the real `apprentice ask --json` command, the real
google-genai SDK over HTTP and the fake Gemini (or a closed port): every query is answered with
exit status 0, the turn is logged, and only a whole teacher answer becomes a training example.
"""

from __future__ import annotations

import pytest

from assistant.store import Store
from tests.conftest import sent_requests
from tests.reliability import FAKE_KEY, apprentice, closed_port

WEATHER = "What's the weather in Paris tomorrow?"  # live information: the router sends it to the teacher
WHOLE = "Sunny and 21 degrees in Paris tomorrow, with a light breeze from the west."

# name: (fake-gemini faults, answers line for WEATHER, settings, does the teacher's answer arrive whole?)
FAULTS = {
    "429-delay-past-the-bound": (["429::60s"], WHOLE, {}, False),
    "429-delay-within-the-bound": (["429:1:0.3s"], WHOLE, {}, True),
    "500-every-time": (["500"], WHOLE, {}, False),
    "503-every-time": (["503"], WHOLE, {}, False),
    "503-once-then-whole": (["503:1"], WHOLE, {}, True),
    "slow-past-the-timeout": (["slow::4s"], WHOLE, {"APPRENTICE_TEACHER_TIMEOUT_S": "1"}, False),
    "slow-within-the-timeout": (["slow::0.5s"], WHOLE, {"APPRENTICE_TEACHER_TIMEOUT_S": "10"}, True),
    "cut-stream": (["cut"], WHOLE, {}, False),
    "garbage": (["garbage"], WHOLE, {}, False),
    "malformed-call": (["badcall"], WHOLE, {}, False),
    "call-with-invalid-arguments": (
        [],
        {"call": {"name": "timer", "arguments": {"minutes": "soon", "x": [1]}}},
        {},
        False,
    ),
}


def _check_answered(run, home):
    assert run.code == 0, run.err
    data = run.json
    assert data["answer"].strip() or (data["tokens"] and data["notes"]), data
    turn = Store().turn(data["turn_id"])
    assert turn["query"] == WEATHER and turn["answer"].strip() == data["answer"].strip()  # the turn is logged as shown
    assert FAKE_KEY not in run.out + run.err
    return data


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_teacher_fault_still_answers_and_never_trains_on_a_partial_answer(name, tiny_student, gemini, home):
    faults, reply, settings, whole = FAULTS[name]
    answers = {WEATHER: reply} if isinstance(reply, str) else [{"query": WEATHER, **reply}]
    fake = gemini(answers=answers, faults=faults, key=FAKE_KEY)
    run = apprentice(
        "ask", WEATHER, "--mode", "auto", "--json", "--max-tokens", "8", APPRENTICE_TEACHER_RETRIES="1", **settings
    )
    data = _check_answered(run, home)
    assert sent_requests(fake), "the query never reached the fake teacher"
    examples = Store().examples()
    if whole:
        assert data["route"] == "cloud" and data["answer"] == WHOLE
        (example,) = examples
        assert example["teacher_answer"] == WHOLE and example["turn_id"] == data["turn_id"]
    else:
        # The student's answer or a sentence saying what failed; nothing to learn from.
        assert data["route"] == "local" or data.get("action") is None, data
        assert examples == [], examples
        audit = Store().examples(include_failed=True)
        assert audit and all(e["query_sent"] == WEATHER for e in audit)  # what left is still on record


def test_a_refused_connection_still_answers(tiny_student, home):
    run = apprentice(
        "ask",
        WEATHER,
        "--mode",
        "auto",
        "--json",
        "--max-tokens",
        "8",
        GEMINI_API_KEY=FAKE_KEY,
        GOOGLE_GEMINI_BASE_URL=f"http://127.0.0.1:{closed_port()}",
        APPRENTICE_TEACHER_RETRIES="1",
    )
    data = _check_answered(run, home)
    assert data["route"] == "local" and any("Gemini could not answer" in n for n in data["notes"]), data
    assert Store().examples() == []
