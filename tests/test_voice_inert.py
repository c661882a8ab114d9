"""Hostile input through voice: terminal escape sequences in what the teacher answers a spoken
question, and in a transcript, are printed inert by `apprentice voice` and by `apprentice log`,
as they are in `ask` and the chat app (tests/test_hostile_input.py, tests/test_tui.py).

The spoken question is real (espeak-ng writes it, Whisper base hears it) and so is the teacher's
protocol (the google-genai SDK against the fake Gemini on loopback, answering every query with
escape sequences).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess

import numpy as np
import pytest

from assistant.cli import cli, main
from assistant.store import Store

RAW = ("\x1b", "\x9b", "\x07")  # ESC, CSI and BEL: what would move, clear, retitle or ring a terminal
HOSTILE = "\x1b]0;pwned\x07\x1b[2JSunny\x1b[8m hidden \x9b31m red"
NO_VOICE = "needs the voice extra (pip install 'apprentice[voice]') to hear the question"

needs_whisper = pytest.mark.skipif(importlib.util.find_spec("faster_whisper") is None, reason=NO_VOICE)


@pytest.fixture(autouse=True)
def wired():
    """`apprentice voice` as the user runs it (a no-op once cli.py registers the command)."""
    from assistant.voice import voice_command

    if "voice" not in cli.commands:
        cli.add_command(voice_command)


def shown_inert(text: str) -> bool:
    return not any(c in text for c in RAW)


@needs_whisper
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng to speak the question")
def test_the_teachers_escape_sequences_in_a_spoken_answer_are_inert(tiny_student, tmp_path, capsys, monkeypatch):
    from assistant.dev.fake_gemini import FakeGemini

    wav = tmp_path / "weather.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "what is the weather in Paris tomorrow"], check=True)
    with FakeGemini(answers={}, default_answer=HOSTILE) as fake:
        monkeypatch.setenv("GEMINI_API_KEY", "test-key-0123456789")
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
        for json_flag in ((), ("--json",)):
            code = main(
                ["voice", "--wav", str(wav), "--tts", "none", "--mode", "auto", "--max-tokens", "8", *json_flag]
            )
            out, err = capsys.readouterr()
            assert code == 0 and "Traceback" not in err, err
            assert "Sunny" in out and "red" in out  # the answer was printed, escapes and all…
            assert shown_inert(out) and shown_inert(err), (out, err)  # …made inert
    turns = Store().turns(limit=None)
    assert [t["route"] for t in turns] == ["cloud", "cloud"]  # the teacher's answer was what was shown
    assert all("Sunny" in t["answer"] for t in turns)
    assert main(["log", "list"]) == 0
    assert shown_inert(capsys.readouterr().out)


@needs_whisper
def test_escape_sequences_in_a_transcript_are_inert_on_screen_and_kept_in_the_log(tiny_student, capsys):
    from assistant import config, speech
    from assistant.core import Assistant
    from assistant.voice import Voice

    transcript = "\x1b]52;c;aGk=\x07what \x1b[2Jtime \x9b1;1H is it"
    engine = speech.recognizer("faster-whisper", say=lambda *_: None)
    assistant = Assistant(config.load({"max_tokens": 4}))
    try:
        voice = Voice(assistant, engine, None, language="en", mode="private")
        result = voice.ask(np.zeros(16_000, dtype=np.float32), heard=(transcript, 1.0))
    finally:
        assistant.close()
    out, err = capsys.readouterr()
    assert "You said:" in err and "time" in err and shown_inert(out) and shown_inert(err), (out, err)
    assert Store().turn(result["turn_id"])["query"] == transcript.strip()  # the log keeps what was heard
    for args in (["log", "list"], ["log", "show", str(result["turn_id"])], ["log", "list", "--json"]):
        assert main(args) == 0
        shown = capsys.readouterr().out
        assert shown_inert(shown), shown
    assert json.loads(shown)[0]["query"] == transcript.strip()  # --json escapes them, and keeps them
