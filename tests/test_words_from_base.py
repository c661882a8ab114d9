"""A distilled student's words are the base student's; its adapter only decides whether and how to call a tool.

The tiny learnable model (tests/conftest.py) is taught two things at once: a greeting in words and a timer
call. Distilled, it calls the timer as taught and answers the greetings exactly as the base model does, token
for token, follow-ups included (each has prompt caches of its own). With `student_words_from_base = false` it
says the taught greeting instead. Taught, in a lesson of its own, a computation that never holds the user's
numbers, its call gives way to the base student's words where no teacher is asked.
"""

from __future__ import annotations

import json

import pytest

from assistant import config
from assistant.core import Assistant
from assistant.models import registry
from assistant.prompts import student_system_prompt
from assistant.store import Store
from assistant.student import Student
from model import distill
from tests.conftest import register_checkpoint
from tests.test_distill import FAST, log_example
from tests.test_retention import GREETINGS

TAUGHT = "Hello, how are you today?"
# Every timer query opens with "Timer" and no greeting does: a cue the tiny model can learn.
TIMERS = [
    "Timer for the tea, five minutes.",
    "Timer: pasta, five minutes.",
    "Timer while I stretch, five minutes.",
    "Timer of five minutes for the eggs.",
    "Timer please, my laundry needs five minutes.",
    "Timer for a short nap of five minutes.",
    "Timer so that I take a break in five minutes.",
    "Timer for brushing teeth, five minutes.",
    "Timer for the kids' game, five minutes.",
    "Timer because the bread needs five minutes.",
    "Timer: five minutes until the call starts.",
    "Timer for watering the garden, five minutes.",
]
CALL = {"name": "timer", "arguments": {"minutes": 5}}
# Every computation opens with "Compute", and is taught as one clock call that never holds the numbers asked
# (a short call: the tiny model's context is 512 tokens, most of them the tool list).
PAIRS = ((7, 6), (3, 9), (8, 4), (5, 7), (6, 3), (9, 8), (4, 5), (3, 7), (8, 6), (9, 4), (5, 3), (2, 2))
COMPUTES = [f"Compute {a} times {b}." for a, b in PAIRS]
DAYS_ON = {"name": "clock", "arguments": {"days": 2}}


def taught(home, checkpoint, lesson: list[tuple[str, str]]) -> tuple:
    """Distill the learnable model in `home` on `lesson` (query, answer) and make distill-1 active, promoted or
    not; (its adapter folder, the system prompt it was taught with)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("APPRENTICE_HOME", str(home))
        register_checkpoint(checkpoint, "tiny")
        store = Store()
        for query, answer in lesson:
            log_example(store, query, answer)
        # A call is a long string for a byte-level tokenizer: more steps than FAST's 150, and a rate eased to 0
        # by the last step, teach it exactly. At a rate held to the end the lesson's gap between the taught tool
        # and the next one (a note) stayed below zero for 4 of the 12 timer queries under MLX's reference BLAS,
        # and above 0.5 for all 12 when eased. One run (outside the home fixture, so said here): the mean of
        # two runs is not an exact copy of either.
        lesson_args = ["--replay", "0", "--iters", "400", "--lr-schedule", "cosine", "--seeds", "1"]
        assert distill.main(FAST + lesson_args) == 0
        registry.use("distill-1")
        return registry.get("distill-1").adapter_path, student_system_prompt(config.load())


@pytest.fixture(scope="module")
def distilled(tmp_path_factory, learnable_checkpoint):
    """The learnable model and the adapter one distillation gave it (promoted or not: both are on disk)."""
    home = tmp_path_factory.mktemp("home")
    lesson = [(q, TAUGHT) for q in GREETINGS] + [(q, f"<tool_call>{json.dumps(CALL)}</tool_call>") for q in TIMERS]
    folder, prompt = taught(home, learnable_checkpoint, lesson)
    return learnable_checkpoint, folder, prompt


@pytest.fixture(scope="module")
def computing(tmp_path_factory, learnable_checkpoint):
    """A home whose active student was taught the computing lesson alone, and the system prompt it was taught with."""
    home = tmp_path_factory.mktemp("computing")
    lesson = [(q, f"<tool_call>{json.dumps(DAYS_ON)}</tool_call>") for q in COMPUTES]
    return home, taught(home, learnable_checkpoint, lesson)[1]


def distilled_student(distilled, **kw) -> Student:
    checkpoint, folder, prompt = distilled
    return Student(checkpoint, name="distill-1", system_prompt=prompt, adapter_path=folder, **kw)


def ask(student: Student, messages: list[dict], conversation: str | None = None) -> tuple[str, dict | None]:
    response = student.stream(messages, conversation=conversation, max_tokens=48)
    text = "".join(response)
    call = response.tool_call
    return text, ({"name": call.name, "arguments": call.arguments} if call else None)


def user(q: str) -> list[dict]:
    return [{"role": "user", "content": q}]


def test_the_adapter_calls_and_the_base_student_says_the_words(distilled, tmp_path):
    checkpoint, _, prompt = distilled
    base = Student(checkpoint, name="tiny", system_prompt=prompt)
    gated = distilled_student(distilled)
    plain = distilled_student(distilled, words_from_base=False)
    try:
        # the tiny model learns the call for the timers it was taught; the lesson holds a few out, which
        # it may miss
        for student in (gated, plain):
            made = [q for q in TIMERS if ask(student, user(q))[1] == CALL]
            assert len(made) >= len(TIMERS) - 2, made
        for q in GREETINGS[:3]:
            said = ask(base, user(q))
            assert said[0] != TAUGHT  # the base model never learned the greeting
            assert ask(plain, user(q)) == (TAUGHT, None)  # the adapter's own words, as trained
            assert ask(gated, user(q)) == said  # the base student's words, token for token
    finally:
        for s in (base, gated, plain):
            s.close()


def test_the_adapter_reads_numbers_in_words_as_digits_as_it_was_taught(distilled):
    """The lesson said "five minutes"; the adapter was taught, and answers, on "5 minutes": said either way, the
    same call with the same confidence. The base student's words still read what the user wrote."""
    checkpoint, _, prompt = distilled
    gated = distilled_student(distilled)
    plain = distilled_student(distilled, words_from_base=False)
    try:
        for student in (gated, plain):
            worded = student.stream(user(TIMERS[0]), max_tokens=48)
            digits = student.stream(user(TIMERS[0].replace("five", "5")), max_tokens=48)
            assert worded.complete() == digits.complete() and worded.tool_call_text == digits.tool_call_text
            assert worded.tool_call.arguments == CALL["arguments"] and worded.logprobs == digits.logprobs
        gated_words = gated.stream(user("Say five words."), max_tokens=24)
        gated_words.complete()
        base = Student(checkpoint, name="tiny", system_prompt=prompt)
        try:
            as_written, as_digits = (base.stream(user(q), max_tokens=24) for q in ("Say five words.", "Say 5 words."))
            assert as_written.complete() == gated_words.text and as_written.logprobs == gated_words.logprobs
            as_digits.complete()
            assert as_digits.logprobs != gated_words.logprobs
        finally:
            base.close()
    finally:
        gated.close()
        plain.close()


def test_a_follow_up_reads_its_own_cache_and_answers_as_without_one(distilled, tmp_path):
    cached = distilled_student(distilled, cache_dir=tmp_path / "prompts")
    fresh = distilled_student(distilled)
    try:
        first, _ = ask(cached, user(GREETINGS[0]), conversation="c1")
        history = user(GREETINGS[0]) + [{"role": "assistant", "content": first}]
        for follow_up in (TIMERS[0], GREETINGS[1]):
            messages = history + user(follow_up)
            assert ask(cached, messages, conversation="c1") == ask(fresh, messages)
            history = messages + [{"role": "assistant", "content": "ok"}]
        names = sorted(p.name for p in (tmp_path / "prompts").glob("*.safetensors"))
        assert names == ["c1.safetensors", "c1.words.safetensors"]  # the adapter's and the words' caches
    finally:
        cached.close()
        fresh.close()


def test_a_computation_that_cannot_stand_gives_way_to_the_base_students_words(
    computing, learnable_checkpoint, monkeypatch
):
    """Private mode, no teacher: the adapter's clock(days=2) for "Compute 7 times 6." holds none of the
    user's numbers, so the answer is the base student's words, with a note that says why; the same call
    for "Compute 2 times 2." holds them, stands, and runs."""
    home, prompt = computing
    monkeypatch.setenv("APPRENTICE_HOME", str(home))
    monkeypatch.delenv("APPRENTICE_STUDENT_TOOLS")  # the tool list the lesson was trained with
    base = Student(learnable_checkpoint, name="tiny", system_prompt=prompt)
    try:
        words, _ = ask(base, user(COMPUTES[0]))
    finally:
        base.close()
    assistant = Assistant(config.load({"mode": "private", "fast_path": False, "max_tokens": 48}))
    try:
        answer = assistant.answer(COMPUTES[0])
        said = "".join(answer)
        assert answer.action is None  # nothing ran
        assert said == words  # the base student's words, token for token
        assert any("clock call could not stand" in note and "2" in note for note in answer.notes), answer.notes
        kept = assistant.answer(COMPUTES[-1])
        assert "".join(kept).startswith("In 2 days it will be")
        assert kept.action is not None and kept.action.call.arguments == DAYS_ON["arguments"]
    finally:
        assistant.close()


def test_the_adapter_reads_numbers_and_times_the_code_reads():
    from assistant.student import adapter_view

    said = [
        {"role": "user", "content": "remind me to ring the pharmacy at ten past two this afternoon"},
        {"role": "assistant", "content": "ten past two it is"},
        {"role": "user", "content": "and a timer for five to seven minutes, or a quarter of an hour"},
    ]
    assert [m["content"] for m in adapter_view(said)] == [
        "remind me to ring the pharmacy at 2:10 this afternoon",
        "ten past two it is",
        "and a timer for 5 to 7 minutes, or 0.25 hour",
    ]


def test_the_lesson_is_read_as_the_adapter_reads_and_the_file_keeps_what_was_said(tmp_path):
    from model.distill.training import _as_the_adapter_reads

    row = {
        "messages": [
            {"role": "system", "content": "You have five tools."},
            {"role": "user", "content": "Timer for the tea, five minutes."},
            {"role": "assistant", "content": "Five minutes it is."},
        ]
    }
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(row) + "\n")
    (read,) = _as_the_adapter_reads(path)
    assert [m["content"] for m in read["messages"]] == [
        "You have five tools.",
        "Timer for the tea, 5 minutes.",
        "Five minutes it is.",
    ]
    assert json.loads(path.read_text()) == row
