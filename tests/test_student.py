"""The student engine on a tiny random MLX model: streaming with log-probabilities,
prompt-cache reuse across turns, cutting to fit the context, cancelling, one owner thread."""

import math
import threading

import pytest

from assistant.errors import ModelMissing
from assistant.student import Student


@pytest.fixture
def student(tiny_checkpoint):
    s = Student(tiny_checkpoint, name="tiny", system_prompt="You are terse.", context_tokens=512)
    yield s
    s.close()


def run(student, messages, conversation=None, max_tokens=16):
    response = student.stream(messages, conversation=conversation, max_tokens=max_tokens)
    chunks = list(response)
    return response, chunks


def test_text_streams_with_a_log_probability_per_token(student):
    response, chunks = run(student, [{"role": "user", "content": "What is the capital of France?"}])
    assert len(chunks) == len(response.logprobs) == response.usage.tokens == 16
    assert "".join(chunks) == response.text and response.model == "tiny"
    assert all(lp <= 0 and math.isfinite(lp) for lp in response.logprobs)
    assert response.confidence == pytest.approx(sum(response.logprobs) / 16)
    assert response.usage.ttft_ms > 0 and response.finish_reason == "length" and response.tool_call is None


def test_greedy_decoding_repeats(student):
    msgs = [{"role": "user", "content": "Hello, how are you?"}]
    first = run(student, msgs)[0].text
    again = run(student, msgs)[0].text
    assert first == again


def test_a_follow_up_reads_only_the_new_turn_and_answers_the_same(student, tiny_checkpoint, tmp_path):
    q1 = [{"role": "user", "content": "What is the capital of France?"}]
    gen1, tokens1 = run(student, q1, conversation="c1")
    answer = gen1.text
    q2 = q1 + [{"role": "assistant", "content": answer}, {"role": "user", "content": "And of Italy?"}]
    gen2, tokens2 = run(student, q2, conversation="c1")
    assert gen2.usage.cached_tokens >= gen1.usage.prompt_tokens  # the whole first turn was reused
    assert gen2.usage.cached_tokens < gen2.usage.prompt_tokens
    # the same follow-up without a cache gives the same tokens: reuse changes speed, not answers
    fresh = Student(tiny_checkpoint, name="tiny", system_prompt="You are terse.", context_tokens=512)
    try:
        _, cold = run(fresh, q2, conversation=None)
    finally:
        fresh.close()
    assert cold == tokens2


def test_prompt_cache_survives_a_restart_on_disk(tiny_checkpoint, tmp_path):
    q1 = [{"role": "user", "content": "Hello there"}]
    s1 = Student(tiny_checkpoint, name="tiny", cache_dir=tmp_path, context_tokens=512)
    _, tokens = run(s1, q1, conversation="7")
    s1.close()
    assert (tmp_path / "7.safetensors").exists()
    s2 = Student(tiny_checkpoint, name="tiny", cache_dir=tmp_path, context_tokens=512)
    q2 = q1 + [{"role": "assistant", "content": "".join(tokens)}, {"role": "user", "content": "Again"}]
    gen, _ = run(s2, q2, conversation="7")
    s2.close()
    assert gen.usage.cached_tokens > 0


def test_a_query_longer_than_the_context_is_cut_with_a_note(student):
    long_query = "capital of France " * 400  # far beyond 512 tokens
    gen, tokens = run(student, [{"role": "user", "content": long_query}], max_tokens=8)
    assert len(tokens) == 8
    assert gen.usage.prompt_tokens <= 512 - 8
    assert any("cut to fit" in n for n in gen.notes)


def test_old_turns_are_dropped_before_the_query_is_cut(student):
    history = []
    for i in range(30):
        history += [
            {"role": "user", "content": f"Question {i} about Paris and France"},
            {"role": "assistant", "content": "The capital of France is Paris. " * 3},
        ]
    gen, _ = run(student, history + [{"role": "user", "content": "Last one?"}], max_tokens=8)
    assert any("earlier turn" in n for n in gen.notes)
    assert not any("cut to fit" in n for n in gen.notes)


def test_cancel_stops_after_the_current_token(student):
    response = student.stream([{"role": "user", "content": "Hello"}], max_tokens=200)
    got = []
    for chunk in response:
        got.append(chunk)
        if len(got) == 3:
            response.cancel()
    assert 3 <= len(got) <= 5 and response.finish_reason == "cancelled" and response.text == "".join(got)


def test_all_mlx_work_happens_on_the_owner_thread(student):
    threads = set()
    from assistant import generation

    original = generation.tokens

    def spy(*args, **kwargs):
        threads.add(threading.current_thread().name)
        yield from original(*args, **kwargs)

    generation.tokens = spy
    try:
        results = []
        callers = [
            threading.Thread(target=lambda: results.append(run(student, [{"role": "user", "content": "hi"}])))
            for _ in range(3)
        ]
        for t in callers:
            t.start()
        for t in callers:
            t.join()
    finally:
        generation.tokens = original
    assert threads == {"student-tiny"} and len(results) == 3


def test_missing_or_corrupt_checkpoint_names_the_pull_command(tmp_path, tiny_checkpoint):
    with pytest.raises(ModelMissing, match="apprentice model pull"):
        Student(tmp_path / "nowhere", name="x")
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_checkpoint, broken)
    (broken / "model.safetensors").write_bytes(b"\0" * 100)
    with pytest.raises(ModelMissing, match="apprentice model pull"):
        Student(broken, name="broken")


def test_a_new_conversation_starts_from_the_system_prompts_cache_and_answers_the_same(tiny_checkpoint):
    prompt = "You are terse. Tools: clock(place); calculate(expression); convert(value, from_unit, to_unit)."
    question = [{"role": "user", "content": "What is the capital of France?"}]
    shared = Student(tiny_checkpoint, name="tiny", system_prompt=prompt, context_tokens=512)
    alone = Student(tiny_checkpoint, name="tiny", system_prompt=prompt, context_tokens=512)
    alone._system_prefix = lambda: None  # every prompt read whole, as without the shared prefix
    try:
        first = shared.stream(question, conversation="a", max_tokens=12)
        second = shared.stream(question, conversation="b", max_tokens=12)
        cold = alone.stream(question, conversation="c", max_tokens=12)
        texts = [r.complete() for r in (first, second, cold)]
    finally:
        shared.close()
        alone.close()
    assert first.usage.cached_tokens > 20 and second.usage.cached_tokens == first.usage.cached_tokens
    assert cold.usage.cached_tokens == 0
    assert texts[0] == texts[1] == texts[2]  # the prefix changes speed, not answers
