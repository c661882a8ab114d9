"""fake-gemini's Batch API and Files API, driven by the real google-genai SDK over real HTTP."""

from __future__ import annotations

import io
import json

import pytest
from google import genai
from google.genai import errors, types

from assistant.dev.fake_gemini import FakeGemini, main, parse_batch_fault

MODEL = "gemini-2.5-flash"
TIMER = {"name": "timer", "arguments": {"minutes": 5}}
ROWS = [
    {"query": "What is 2+2?", "answer": "4"},
    {"query": "Set a timer for 5 minutes", "call": TIMER},
]
TIMER_TOOL = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="timer",
            description="a timer",
            parameters_json_schema={"type": "object", "properties": {"minutes": {"type": "number"}}},
        )
    ]
)


def client(url: str, key: str = "test-key") -> genai.Client:
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=url))


def inlined(query: str, key: str, tools=None) -> types.InlinedRequest:
    config = types.GenerateContentConfig(tools=tools) if tools else None
    return types.InlinedRequest(contents=query, metadata={"key": key}, config=config)


def test_a_job_goes_pending_running_succeeded_and_answers_from_the_table():
    with FakeGemini(answers=ROWS, batch_polls=3) as fake:
        c = client(fake.url)
        src = [inlined("what is 2+2", "a"), inlined("Set a timer for 5 minutes", "b", [TIMER_TOOL])]
        job = c.batches.create(model=MODEL, src=src, config={"display_name": "mine"})
        assert job.state == types.JobState.JOB_STATE_PENDING and job.display_name == "mine"
        states = [c.batches.get(name=job.name).state for _ in range(4)]
        assert states == [types.JobState.JOB_STATE_RUNNING] * 2 + [types.JobState.JOB_STATE_SUCCEEDED] * 2
        done = c.batches.get(name=job.name)
        first, second = done.dest.inlined_responses
        assert (first.metadata, first.response.text) == ({"key": "a"}, "4")
        call = second.response.candidates[0].content.parts[0].function_call
        assert second.metadata == {"key": "b"} and (call.name, call.args) == ("timer", {"minutes": 5})


def test_a_call_comes_only_when_the_request_declares_the_tool():
    with FakeGemini(answers=[{"query": "Set a timer for 5 minutes", "call": TIMER, "answer": "Five minutes."}]) as fake:
        c = client(fake.url)
        job = c.batches.create(model=MODEL, src=[inlined("Set a timer for 5 minutes", "a")])
        c.batches.get(name=job.name)
        [only] = c.batches.get(name=job.name).dest.inlined_responses
        assert only.response.text == "Five minutes."


def test_a_job_from_an_uploaded_file_writes_its_responses_to_a_file():
    with FakeGemini(answers=ROWS, batch_polls=1) as fake:
        c = client(fake.url)
        lines = [
            {"key": "x", "request": {"contents": [{"role": "user", "parts": [{"text": "What is 2+2?"}]}]}},
            {"key": "y", "request": {"contents": []}},
        ]
        data = "\n".join(json.dumps(line) for line in lines).encode()
        uploaded = c.files.upload(file=io.BytesIO(data), config={"mime_type": "application/jsonl"})
        assert uploaded.size_bytes == len(data)
        with pytest.raises(errors.APIError):  # an uploaded file is not downloadable, as at Google
            c.files.download(file=uploaded.name)
        job = c.batches.create(model=MODEL, src=uploaded.name)
        done = c.batches.get(name=job.name)
        assert done.state == types.JobState.JOB_STATE_SUCCEEDED
        results = [json.loads(line) for line in c.files.download(file=done.dest.file_name).decode().splitlines()]
        assert results[0]["key"] == "x" and results[0]["response"]["candidates"][0]["content"]["parts"] == [
            {"text": "4"}
        ]
        assert results[1]["key"] == "y" and "contents" in results[1]["error"]["message"]


@pytest.mark.parametrize("kind, state", [("failed", "JOB_STATE_FAILED"), ("expired", "JOB_STATE_EXPIRED")])
def test_a_batch_fault_ends_the_next_jobs_without_results(kind, state):
    with FakeGemini(answers=ROWS, batch_polls=1, batch_faults=[f"{kind}:1"]) as fake:
        c = client(fake.url)
        spoiled = c.batches.create(model=MODEL, src=[inlined("What is 2+2?", "a")])
        fine = c.batches.create(model=MODEL, src=[inlined("What is 2+2?", "a")])
        ended = c.batches.get(name=spoiled.name)
        assert ended.state.value == state and not (ended.dest and ended.dest.inlined_responses)
        assert c.batches.get(name=fine.name).state == types.JobState.JOB_STATE_SUCCEEDED


def test_list_pages_cancel_and_delete():
    with FakeGemini(answers=ROWS, batch_polls=10) as fake:
        c = client(fake.url)
        names = [c.batches.create(model=MODEL, src=[inlined("What is 2+2?", str(i))]).name for i in range(3)]
        assert [job.name for job in c.batches.list(config={"page_size": 2})] == names[::-1]
        c.batches.cancel(name=names[0])
        assert c.batches.get(name=names[0]).state == types.JobState.JOB_STATE_CANCELLED
        c.batches.delete(name=names[1])
        with pytest.raises(errors.APIError) as missing:
            c.batches.get(name=names[1])
        assert missing.value.code == 404


def test_batch_endpoints_need_a_key_and_refuse_an_empty_job():
    with FakeGemini(answers=ROWS, key="right-key") as fake:
        wrong_key, right_key = client(fake.url, key="wrong-key"), client(fake.url, key="right-key")
        with pytest.raises(errors.APIError) as wrong:
            wrong_key.batches.create(model=MODEL, src=[inlined("What is 2+2?", "a")])
        assert wrong.value.code == 400
        with pytest.raises(errors.APIError) as empty:
            right_key.batches.create(model=MODEL, src="files/nothing-here")
        assert empty.value.code == 404
        assert fake.batches == {}


def test_batch_fault_specs():
    assert (parse_batch_fault("failed").kind, parse_batch_fault("expired:2").count) == ("failed", 2)
    for bad in ("late", "failed:0", "failed:x"):
        with pytest.raises(ValueError, match="failed"):
            parse_batch_fault(bad)
    with pytest.raises(SystemExit) as usage:
        main(["--batch-fault", "late"])
    assert usage.value.code == 2
