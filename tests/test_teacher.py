"""The teacher: the real google-genai SDK over real HTTP against the fake Gemini, with the
faults a real one shows. Retries wait what the server asks; broken answers are errors."""

import time

import pytest

from assistant.teacher import Teacher, TeacherError

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
