"""The fake Gemini server, driven by the real google-genai SDK over real HTTP."""

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from google import genai
from google.genai import errors, types

from assistant.dev.fake_gemini import DEFAULT_ANSWER, AnswersError, FakeGemini, parse_fault

ROOT = Path(__file__).resolve().parents[1]
MODEL = "gemini-2.5-flash"
PARIS = "The capital of France is Paris, a city on the Seine."
ROWS = [
    {"query": "What is the capital of France?", "answer": PARIS, "rationale": "The French government sits in Paris."},
    {"query": "How many legs does a spider have", "reference": "Eight."},
]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No user state and no real Gemini settings leak into a test."""
    monkeypatch.setenv("APPRENTICE_HOME", str(tmp_path / "home"))
    for name in ("GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GENAI_API_VERSION"):
        monkeypatch.delenv(name, raising=False)


def client(url, attempts=1, **options):
    """A real SDK client; attempts=1 so a single failure is seen as it is."""
    retry = types.HttpRetryOptions(attempts=attempts, initial_delay=0.05, jitter=0)
    return genai.Client(
        api_key="test-key", http_options=types.HttpOptions(base_url=url, retry_options=retry, **options)
    )


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def post(url, path, body, headers=None):
    """A raw request, for what the SDK never sends (no key, a bad body, a wrong path)."""
    headers = {"x-goog-api-key": "test-key"} if headers is None else headers
    request = urllib.request.Request(url + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_generate_content_answers_from_the_table():
    with FakeGemini(ROWS) as fake:
        gemini = client(fake.url)
        response = gemini.models.generate_content(model=MODEL, contents="  what is the capital of france ")
    assert response.text == PARIS
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.candidates[0].content.role == "model"
    assert response.model_version == MODEL
    usage = response.usage_metadata
    # Tokens are words: 6 in the query, 11 in the answer.
    assert (usage.prompt_token_count, usage.candidates_token_count, usage.total_token_count) == (6, 11, 17)


def test_a_reference_line_answers_and_unknown_queries_get_the_default():
    with FakeGemini(ROWS) as fake:
        gemini = client(fake.url)
        assert (
            gemini.models.generate_content(model=MODEL, contents="How many legs does a spider have?").text == "Eight."
        )
        assert (
            gemini.models.generate_content(model=MODEL, contents="What is the meaning of life?").text == DEFAULT_ANSWER
        )


def test_a_request_for_a_rationale_gets_one():
    with FakeGemini(ROWS) as fake:
        gemini = client(fake.url)
        response = gemini.models.generate_content(
            model=MODEL,
            contents="What is the capital of France?",
            config=types.GenerateContentConfig(system_instruction="Give your Rationale first."),
        )
    assert response.text == f"Rationale: The French government sits in Paris.\nAnswer: {PARIS}"


def test_stream_arrives_in_several_chunks_that_join_to_the_answer():
    with FakeGemini(ROWS) as fake:
        gemini = client(fake.url)
        chunks = list(gemini.models.generate_content_stream(model=MODEL, contents="What is the capital of France?"))
    assert len(chunks) >= 3
    assert "".join(c.text for c in chunks) == PARIS
    assert chunks[-1].usage_metadata.candidates_token_count == 11
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert all(c.usage_metadata is None for c in chunks[:-1])


def test_base_url_from_the_environment_and_both_prefixes(tmp_path, monkeypatch):
    record = tmp_path / "requests.jsonl"
    with FakeGemini(ROWS, record=record) as fake:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
        gemini = genai.Client(api_key="test-key")
        assert gemini.models.generate_content(model=MODEL, contents="What is the capital of France?").text == PARIS
        monkeypatch.setenv("GOOGLE_GENAI_API_VERSION", "beta")
        beta = genai.Client(api_key="test-key")
        assert beta.models.generate_content(model=MODEL, contents="What is the capital of France?").text == PARIS
    assert [r["path"] for r in records(record)] == [
        f"/v1/models/{MODEL}:generateContent",
        f"/v1beta/models/{MODEL}:generateContent",
    ]


def test_record_keeps_the_request_body_and_never_the_key(tmp_path):
    record = tmp_path / "requests.jsonl"
    with FakeGemini(ROWS, record=record) as fake:
        gemini = genai.Client(api_key="secret-key-123", http_options=types.HttpOptions(base_url=fake.url))
        list(gemini.models.generate_content_stream(model=MODEL, contents="What is the capital of France?"))
    text = record.read_text()
    assert "secret-key-123" not in text
    (line,) = records(record)
    assert set(line) == {"path", "model", "body", "tools", "time"}
    assert line["tools"] == []  # nothing declared
    assert line["model"] == MODEL
    assert line["path"] == f"/v1/models/{MODEL}:streamGenerateContent"
    assert line["body"]["contents"][-1]["parts"][0]["text"] == "What is the capital of France?"


def test_429_carries_a_retry_delay_and_the_next_call_succeeds():
    with FakeGemini(ROWS, faults=["429:1:0.2s"]) as fake:
        gemini = client(fake.url)
        with pytest.raises(errors.ClientError) as caught:
            gemini.models.generate_content(model=MODEL, contents="What is the capital of France?")
        assert gemini.models.generate_content(model=MODEL, contents="What is the capital of France?").text == PARIS
    error = caught.value
    assert (error.code, error.status) == (429, "RESOURCE_EXHAUSTED")
    retry = [d for d in error.details["error"]["details"] if d["@type"] == "type.googleapis.com/google.rpc.RetryInfo"]
    assert retry[0]["retryDelay"] == "0.200s"


def test_the_sdk_retries_by_itself_only_when_asked_to(tmp_path):
    record = tmp_path / "requests.jsonl"
    with FakeGemini(ROWS, faults=["503:2"], record=record) as fake:
        gemini = client(fake.url, attempts=3)
        assert gemini.models.generate_content(model=MODEL, contents="What is the capital of France?").text == PARIS
    assert len(records(record)) == 3


@pytest.mark.parametrize("kind, status", [("500", "INTERNAL"), ("503", "UNAVAILABLE")])
def test_server_errors(kind, status):
    with FakeGemini(ROWS, faults=[kind]) as fake:
        gemini = client(fake.url)
        with pytest.raises(errors.ServerError) as caught:
            gemini.models.generate_content(model=MODEL, contents="What is the capital of France?")
    assert (caught.value.code, caught.value.status) == (int(kind), status)


def test_faults_are_used_in_order_then_answers_come():
    with FakeGemini(ROWS, faults=["429:1:0s", "503:1"]) as fake:
        gemini = client(fake.url)
        seen = []
        for _ in range(3):
            try:
                seen.append(gemini.models.generate_content(model=MODEL, contents="What is the capital of France?").text)
            except errors.APIError as e:
                seen.append(e.code)
    assert seen == [429, 503, PARIS]


def test_a_cut_stream_shows_part_of_the_answer_then_fails():
    with FakeGemini(ROWS, faults=["cut:1"]) as fake:
        gemini = client(fake.url)
        shown = []
        with pytest.raises(Exception, match="incomplete chunked read"):
            for chunk in gemini.models.generate_content_stream(model=MODEL, contents="What is the capital of France?"):
                shown.append(chunk.text)
        again = gemini.models.generate_content(model=MODEL, contents="What is the capital of France?").text
    assert shown and PARIS.startswith("".join(shown)) and "".join(shown) != PARIS
    assert again == PARIS


def test_a_cut_reply_fails():
    with FakeGemini(ROWS, faults=["cut"]) as fake:
        gemini = client(fake.url)
        with pytest.raises(Exception, match="without sending complete message body"):
            gemini.models.generate_content(model=MODEL, contents="What is the capital of France?")


def test_garbage_is_a_parse_error():
    with FakeGemini(ROWS, faults=["garbage"]) as fake:
        gemini = client(fake.url)
        with pytest.raises(errors.UnknownApiResponseError):
            list(gemini.models.generate_content_stream(model=MODEL, contents="What is the capital of France?"))
        with pytest.raises(ValueError):
            gemini.models.generate_content(model=MODEL, contents="What is the capital of France?")


def test_slow_delays_the_first_byte_and_a_client_timeout_sees_it():
    with FakeGemini(ROWS, faults=["slow::0.4s"]) as fake:
        gemini, impatient = client(fake.url), client(fake.url, timeout=100)  # timeout in ms
        start = time.monotonic()
        chunks = list(gemini.models.generate_content_stream(model=MODEL, contents="What is the capital of France?"))
        assert time.monotonic() - start >= 0.4
        assert "".join(c.text for c in chunks) == PARIS
        with pytest.raises(Exception, match="timed out"):
            impatient.models.generate_content(model=MODEL, contents="What is the capital of France?")


def test_requests_the_sdk_would_not_send_get_google_errors():
    body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}).encode()
    with FakeGemini(ROWS) as fake:
        assert post(fake.url, f"/v1beta/models/{MODEL}:generateContent", body)[0] == 200
        status, error = post(fake.url, f"/v1beta/models/{MODEL}:generateContent", body, headers={})
        assert (status, error["error"]["status"]) == (403, "PERMISSION_DENIED")
        status, error = post(fake.url, f"/v1beta/models/{MODEL}:generateContent", b"{not json")
        assert (status, error["error"]["status"]) == (400, "INVALID_ARGUMENT")
        status, error = post(fake.url, "/v1beta/tunedModels/x:train", body)
        assert (status, error["error"]["code"], error["error"]["status"]) == (404, 404, "NOT_FOUND")


def test_only_the_given_key_is_accepted():
    with FakeGemini(ROWS, key="right-key") as fake:
        gemini = client(fake.url)
        with pytest.raises(errors.ClientError) as caught:
            gemini.models.generate_content(model=MODEL, contents="What is the capital of France?")
    assert caught.value.code == 400
    assert caught.value.message == "API key not valid. Please pass a valid API key."


def test_fault_specs():
    assert parse_fault("429:2:0.2s") == parse_fault("429:2:200ms")
    assert parse_fault("503").count is None
    assert parse_fault("slow").delay == 3.0
    with pytest.raises(ValueError):
        parse_fault("418")


def run_module(*args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.dev.fake_gemini", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_command_prints_where_it_listens_serves_and_stops(tmp_path):
    answers = tmp_path / "answers.jsonl"
    answers.write_text("\n".join(json.dumps(row) for row in [*ROWS, CALL]) + "\n")
    server = run_module("--port", "0", "--answers", str(answers))
    try:
        line = server.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1]
        gemini = client(url)
        assert gemini.models.generate_content(model=MODEL, contents="What is the capital of France?").text == PARIS
        called = gemini.models.generate_content(model=MODEL, contents=TIMER, config=WITH_TIMER)
        assert called.function_calls[0].args == {"minutes": 10}
        body = json.dumps({"contents": [{"parts": [{"text": "hi"}]}]}).encode()
        assert post(url, f"/v1beta/models/{MODEL}:generateContent?key=query-key", body, headers={})[0] == 200
    finally:
        server.terminate()
        out, err = server.communicate(timeout=5)
    assert server.returncode == 0
    assert out == ""  # the listening line was the only one
    assert f"POST /v1/models/{MODEL}:generateContent 200" in err
    assert "query-key" not in err


def test_command_rejects_a_bad_answers_file(tmp_path):
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps(ROWS[0]) + "\n{oops\n")
    server = run_module("--answers", str(answers))
    out, err = server.communicate(timeout=10)
    assert server.returncode == 2
    assert out == ""
    assert (
        err.strip()
        == f"Answers file {answers}, line 2 is not valid JSON (Expecting property name enclosed in double quotes)."
    )


# -- function calling -------------------------------------------------------------------------------

TIMER = "Set a timer for 10 minutes"
CALL = {"query": TIMER, "call": {"name": "timer", "arguments": {"minutes": 10}}, "family": "timers"}
TIMER_TOOL = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="timer",
            description="Set a countdown timer.",
            parameters_json_schema={"type": "object", "properties": {"minutes": {"type": "number"}}},
        )
    ]
)
WITH_TIMER = types.GenerateContentConfig(
    tools=[TIMER_TOOL], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True)
)


def test_a_call_row_streams_a_function_call_as_gemini_does():
    with FakeGemini([CALL]) as fake:
        gemini = client(fake.url)
        chunks = list(gemini.models.generate_content_stream(model=MODEL, contents=TIMER, config=WITH_TIMER))
    (last,) = chunks  # a call comes whole, in one chunk that also ends the reply
    (call,) = last.function_calls
    assert (call.name, call.args) == ("timer", {"minutes": 10})
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata.candidates_token_count > 0
    part = last.candidates[0].content.parts[0]
    assert part.thought_signature and part.text is None


def test_a_call_row_with_an_answer_says_it_first_and_generate_content_returns_both():
    row = {**CALL, "answer": "Setting a timer of ten minutes for you."}
    with FakeGemini([row]) as fake:
        gemini = client(fake.url)
        chunks = list(gemini.models.generate_content_stream(model=MODEL, contents=TIMER, config=WITH_TIMER))
        whole = gemini.models.generate_content(model=MODEL, contents=TIMER, config=WITH_TIMER)
    assert len(chunks) >= 3 and all(c.function_calls is None for c in chunks[:-1])
    assert "".join(p.text for c in chunks for p in c.candidates[0].content.parts if p.text) == row["answer"]
    assert chunks[-1].function_calls[0].name == "timer"
    parts = whole.candidates[0].content.parts
    assert parts[0].text == row["answer"] and parts[1].function_call.args == {"minutes": 10}


def test_a_list_of_calls_is_sent_as_parallel_calls_signed_once():
    both = [{"name": "timer", "arguments": {"minutes": 5}}, {"name": "timer", "arguments": {"minutes": 10}}]
    with FakeGemini([{"query": TIMER, "call": both}]) as fake:
        gemini = client(fake.url)
        (chunk,) = list(gemini.models.generate_content_stream(model=MODEL, contents=TIMER, config=WITH_TIMER))
    assert [c.args for c in chunk.function_calls] == [{"minutes": 5}, {"minutes": 10}]
    assert [bool(p.thought_signature) for p in chunk.candidates[0].content.parts] == [True, False]


def test_the_fake_calls_only_a_declared_tool():
    with FakeGemini([CALL, {**CALL, "query": "Time my tea", "reference": "Timer set for 4 minutes."}]) as fake:
        gemini = client(fake.url)
        plain = gemini.models.generate_content(model=MODEL, contents=TIMER)
        other = types.GenerateContentConfig(
            tools=[types.Tool(function_declarations=[types.FunctionDeclaration(name="clock", description="Time.")])]
        )
        undeclared = gemini.models.generate_content(model=MODEL, contents=TIMER, config=other)
        referenced = gemini.models.generate_content(model=MODEL, contents="time my tea!")
    assert plain.function_calls is None and plain.text == DEFAULT_ANSWER
    assert undeclared.function_calls is None and undeclared.text == DEFAULT_ANSWER
    assert referenced.text == "Timer set for 4 minutes."  # the reference, when no call is made
    assert fake.declared == [[], ["clock"], []]


def test_every_request_is_recorded_with_what_it_declared_even_refused_ones(tmp_path):
    record = tmp_path / "requests.jsonl"
    with FakeGemini([CALL], faults=["503:1"], record=record) as fake:
        gemini = client(fake.url)
        with pytest.raises(errors.ServerError):
            gemini.models.generate_content(model=MODEL, contents=TIMER, config=WITH_TIMER)
        gemini.models.generate_content(model=MODEL, contents=TIMER, config=WITH_TIMER)
    assert fake.declared == [["timer"], ["timer"]]
    assert [line["tools"] for line in records(record)] == [["timer"], ["timer"]]
    assert [r["body"] for r in fake.requests] == [line["body"] for line in records(record)]
    assert fake.requests[0]["body"]["contents"][0]["parts"][0]["text"] == TIMER


def test_a_call_in_the_history_reaches_the_fake_as_a_function_call():
    history = [
        types.Content(role="user", parts=[types.Part(text=TIMER)]),
        types.Content(
            role="model", parts=[types.Part(function_call=types.FunctionCall(name="timer", args={"minutes": 10}))]
        ),
        types.Content(role="user", parts=[types.Part(text="What is the capital of France?")]),
    ]
    with FakeGemini(ROWS) as fake:
        gemini = client(fake.url)
        answer = gemini.models.generate_content(model=MODEL, contents=history, config=WITH_TIMER)
    assert answer.text == PARIS  # the last user turn is the query
    sent = fake.requests[0]["body"]["contents"][1]
    assert sent == {"role": "model", "parts": [{"functionCall": {"name": "timer", "args": {"minutes": 10}}}]}
    # 6 + 7 words of text, and the call's JSON counts as prompt too
    assert answer.usage_metadata.prompt_token_count > 13


def test_a_call_turn_that_does_not_follow_a_user_turn_is_refused_as_gemini_does():
    call = {"role": "model", "parts": [{"functionCall": {"name": "timer", "args": {}}}]}
    user = {"role": "user", "parts": [{"text": TIMER}]}
    with FakeGemini([CALL]) as fake:
        status, error = post(
            fake.url, f"/v1beta/models/{MODEL}:generateContent", json.dumps({"contents": [call, user]}).encode()
        )
        assert (status, error["error"]["status"]) == (400, "INVALID_ARGUMENT")
        assert "function call turn comes immediately after a user turn" in error["error"]["message"]
        ok = json.dumps({"contents": [user, call, user]}).encode()
        assert post(fake.url, f"/v1beta/models/{MODEL}:generateContent", ok)[0] == 200


def test_badcall_is_gemini_failing_to_form_a_call():
    with FakeGemini([CALL], faults=["badcall:1"]) as fake:
        gemini = client(fake.url)
        (chunk,) = list(gemini.models.generate_content_stream(model=MODEL, contents=TIMER, config=WITH_TIMER))
        again = gemini.models.generate_content(model=MODEL, contents=TIMER, config=WITH_TIMER)
    assert chunk.candidates[0].finish_reason == types.FinishReason.MALFORMED_FUNCTION_CALL
    assert chunk.function_calls is None and chunk.candidates[0].content is None
    assert again.function_calls[0].name == "timer"


@pytest.mark.parametrize(
    "row, message",
    [
        ({"query": TIMER, "call": {"arguments": {}}}, '"call" must be'),
        ({"query": TIMER, "call": {"name": "timer", "arguments": [10]}}, '"call" must be'),
        ({"query": TIMER, "call": []}, '"call" must be'),
        ({"query": TIMER, "family": "timers"}, 'needs a "query" string and an "answer", "reference" or "call"'),
        ({"query": TIMER, "reference": 7}, '"reference" must be a string'),
    ],
)
def test_bad_call_rows_are_refused_in_one_sentence(row, message):
    with pytest.raises(AnswersError, match=re.escape(message)):
        FakeGemini([row])


def test_a_benchmark_file_of_call_rows_loads(tmp_path):
    path = tmp_path / "actions.jsonl"
    path.write_text(json.dumps({**CALL, "reference": "Timer set for 10 minutes."}) + "\n")
    with FakeGemini(path) as fake:
        gemini = client(fake.url)
        assert gemini.models.generate_content(model=MODEL, contents=TIMER, config=WITH_TIMER).function_calls
        assert gemini.models.generate_content(model=MODEL, contents=TIMER).text == "Timer set for 10 minutes."
