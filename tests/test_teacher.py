"""The teacher: the real google-genai SDK over real HTTP against the fake Gemini, with the
faults a real one shows. Retries wait what the server asks; broken answers are errors."""

import json
import time

import pytest

from assistant import tools
from assistant.teacher import Teacher, TeacherError
from assistant.tools.calls import ToolCall, format_call
from tests.conftest import sent_requests

KEY = "test-key-0123456789"
Q = [{"role": "user", "content": "What is the capital of France?"}]


def teacher(**kw):
    return Teacher(KEY, **{"timeout_s": 5, "retries": 2, "max_retry_delay_s": 2, **kw})


def test_streams_the_answer_in_chunks_with_usage(gemini):
    gemini(answers={"What is the capital of France?": "The capital of France is Paris, on the Seine."})
    response = teacher().stream(Q)
    chunks = list(response)
    assert len(chunks) > 1 and "".join(chunks) == response.text == "The capital of France is Paris, on the Seine."
    assert response.usage.tokens == 9 and response.usage.prompt_tokens > 0 and response.usage.attempts == 1
    assert response.model == "gemini-2.5-flash" and response.usage.ttft_ms > 0


def test_a_429_is_retried_after_the_delay_the_server_asks(gemini):
    gemini(answers={"What is the capital of France?": "Paris."}, faults=["429:1:0.4s"])
    started = time.monotonic()
    response = teacher().stream(Q)
    assert response.complete() == "Paris."
    assert time.monotonic() - started >= 0.4 and response.usage.attempts == 2


def test_a_429_asking_too_long_a_wait_fails_at_once(gemini):
    gemini(faults=["429::30s"])
    started = time.monotonic()
    with pytest.raises(TeacherError, match="asks to wait 30 s"):
        list(teacher().stream(Q))
    assert time.monotonic() - started < 5


def test_503_is_retried_then_reported(gemini):
    gemini(answers={"What is the capital of France?": "Paris."}, faults=["503:2"])
    assert "".join(teacher(retries=2).stream(Q)) == "Paris."
    gemini(faults=["503"])
    with pytest.raises(TeacherError, match="after 3 attempt.*503"):
        list(teacher(retries=2).stream(Q))


def test_a_cut_stream_is_an_error_not_a_short_answer(gemini):
    gemini(
        answers={"What is the capital of France?": "one two three four five six seven eight nine ten"}, faults=["cut:1"]
    )
    got = []
    with pytest.raises(TeacherError, match="broke off"):
        for chunk in teacher().stream(Q):
            got.append(chunk)
    assert got and "ten" not in "".join(got)


def test_a_timeout_and_garbage_are_errors(gemini):
    gemini(faults=["slow::3s"])
    with pytest.raises(TeacherError, match="no reply in time"):
        list(teacher(timeout_s=0.5, retries=0).stream(Q))
    gemini(faults=["garbage"])
    with pytest.raises(TeacherError, match="malformed"):
        list(teacher().stream(Q))


def test_the_key_never_appears_in_an_error(gemini):
    gemini(faults=["500"])
    with pytest.raises(TeacherError) as info:
        list(teacher(retries=0).stream(Q))
    assert KEY not in str(info.value)
    fake = gemini(faults=[], key=KEY)
    list(teacher().stream(Q))
    assert fake.record_path.exists() and KEY not in fake.record_path.read_text()


# -- tool calls: the registry's declarations go to Gemini; its functionCall comes back as the call ----------

TIMER = "Set a timer for 10 minutes."
CALL_ROWS = [
    {"query": TIMER, "call": {"name": "timer", "arguments": {"minutes": 10}}, "family": "timers"},
    {"query": "What is 17 times 23?", "call": {"name": "calculate", "arguments": {"expression": "17 * 23"}}},
    {"query": "What is the capital of France?", "answer": "Paris."},
]


def ask(text):
    return [{"role": "user", "content": text}]


def test_a_call_arrives_as_the_tool_call_with_its_arguments_and_no_text(gemini):
    gemini(answers=CALL_ROWS)
    response = teacher(tools=True).stream(ask(TIMER))
    assert list(response) == [] and response.text == ""
    assert response.tool_call == ToolCall("timer", {"minutes": 10})
    assert response.finish_reason == "stop" and response.usage.tokens > 0 and response.usage.latency_ms > 0


def test_text_before_a_call_still_streams(gemini):
    row = {**CALL_ROWS[1], "answer": "Let me work that out for you."}
    gemini(answers=[row])
    response = teacher(tools=True).stream(ask("What is 17 times 23?"))
    assert "".join(response) == "Let me work that out for you."
    assert response.tool_call == ToolCall("calculate", {"expression": "17 * 23"})


def test_the_registry_declarations_reach_gemini_but_never_a_local_only_tool(gemini):
    fake = gemini(answers=CALL_ROWS)
    local = {name for name, t in tools.tools().items() if t.local_only}
    assert "note" in local
    teacher(tools=True).stream(ask(TIMER)).complete()
    (declared,) = fake.declared
    assert declared == [d["name"] for d in tools.declarations() if d["name"] not in local]
    (body,) = [r["body"] for r in sent_requests(fake)]
    sent = {d["name"]: d for d in body["tools"][0]["functionDeclarations"]}
    # the same schema the student's prompt and validation use, not a second copy that can drift
    # (the SDK names this field as the proto does, which Google's JSON parser accepts as well)
    assert sent["timer"]["parameters_json_schema"] == tools.tools()["timer"].declaration["parameters"]
    assert "note" not in json.dumps(body["tools"])


def test_only_the_named_tools_are_declared_and_without_tools_the_answer_is_text(gemini):
    fake = gemini(answers=[{**CALL_ROWS[0], "reference": "Timer set for 10 minutes."}])
    assert teacher(tools=["calculate"]).stream(ask(TIMER)).complete() == "Timer set for 10 minutes."
    plain = teacher().stream(ask(TIMER))
    assert plain.complete() == "Timer set for 10 minutes." and plain.tool_call is None
    assert fake.declared == [["calculate"], []]
    assert "tools" not in sent_requests(fake)[1]["body"]
    with pytest.raises(ValueError, match="note must stay on this machine"):
        teacher(tools=["note", "clock"])
    with pytest.raises(ValueError, match="no such tool"):
        teacher(tools=["shell"])


def test_invalid_arguments_and_placeholders_are_passed_through_untouched(gemini):
    # Validation and restoring redactions are the caller's: the teacher reports what Gemini sent.
    odd = {"minutes": "-5 years", "label": "call [EMAIL_1]", "colour": None}
    gemini(answers=[{"query": TIMER, "call": {"name": "timer", "arguments": odd}}])
    response = teacher(tools=True).stream(ask(TIMER))
    assert response.complete() == "" and response.tool_call == ToolCall("timer", odd)


def test_a_history_call_is_sent_as_a_function_call_and_nothing_after_it(gemini):
    fake = gemini(answers=CALL_ROWS)
    call = format_call(ToolCall("timer", {"minutes": 10}))
    history = [
        {"role": "user", "content": TIMER},
        # a caller that wrongly keeps the tool's result beside the call: the result must still stay here
        {"role": "assistant", "content": call + "\nTimer set for 10 minutes; it rings at 14:32."},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    assert teacher(tools=True).stream(history).complete() == "Paris."
    (body,) = [r["body"] for r in sent_requests(fake)]
    assert body["contents"][1] == {
        "role": "model",
        "parts": [{"functionCall": {"name": "timer", "args": {"minutes": 10}}}],
    }
    sent = json.dumps(body)
    assert "tool_call" not in sent and "rings at" not in sent and "14:32" not in sent
    assert "functionResponse" not in sent and "function_response" not in sent


def test_a_history_that_starts_with_a_call_drops_it_rather_than_fail(gemini):
    fake = gemini(answers=CALL_ROWS)
    history = [
        {"role": "assistant", "content": format_call(ToolCall("clock", {}))},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    assert teacher(tools=True).stream(history).complete() == "Paris."
    assert [c["role"] for c in sent_requests(fake)[0]["body"]["contents"]] == ["user"]


def test_faults_still_behave_when_gemini_calls(gemini):
    gemini(answers=CALL_ROWS, faults=["503:1"])
    response = teacher(tools=True).stream(ask(TIMER))
    assert response.complete() == "" and response.tool_call.name == "timer" and response.usage.attempts == 2
    # a call is one chunk: cut inside it, nothing arrived, so asking again is safe
    gemini(answers=CALL_ROWS, faults=["cut:1"])
    response = teacher(tools=True).stream(ask(TIMER))
    assert response.complete() == "" and response.tool_call.name == "timer" and response.usage.attempts == 2
    # cut after some text: the call never came, and the answer is an error, not the text alone
    said = {**CALL_ROWS[0], "answer": "Right away, one timer of ten minutes coming up for you now."}
    gemini(answers=[said], faults=["cut:1"])
    response = teacher(tools=True).stream(ask(TIMER))
    with pytest.raises(TeacherError, match="broke off"):
        response.complete()
    assert response.tool_call is None and response.text  # half a reply is no call
    gemini(answers=CALL_ROWS, faults=["badcall:1"])
    response = teacher(tools=True).stream(ask(TIMER))
    with pytest.raises(TeacherError, match="malformed tool call"):
        response.complete()
    assert response.tool_call is None


def test_of_parallel_calls_the_first_is_the_call_and_a_note_says_so(gemini):
    both = [{"name": "timer", "arguments": {"minutes": 5}}, {"name": "timer", "arguments": {"minutes": 10}}]
    gemini(answers=[{"query": "Set timers for 5 and 10 minutes", "call": both}])
    response = teacher(tools=True).stream(ask("Set timers for 5 and 10 minutes"))
    assert response.complete() == "" and response.tool_call == ToolCall("timer", {"minutes": 5})
    assert response.notes == ["Gemini asked for 2 tool calls at once; only the first, timer, runs."]


def test_a_note_in_the_history_never_leaves_neither_its_call_nor_its_question(gemini):
    fake = gemini(answers=CALL_ROWS)
    history = [
        {"role": "user", "content": "Remember that the boiler code is 4312"},
        {"role": "assistant", "content": format_call(ToolCall("note", {"text": "the boiler code is 4312"}))},
        {"role": "user", "content": TIMER},
        {"role": "assistant", "content": format_call(ToolCall("timer", {"minutes": 10}))},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    assert teacher(tools=True).stream(history).complete() == "Paris."
    (body,) = [r["body"] for r in sent_requests(fake)]
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert "4312" not in json.dumps(body) and "boiler" not in json.dumps(body)
