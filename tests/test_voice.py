"""Voice queries, end to end with real parts: espeak-ng speaks the questions, faster-whisper
(Whisper base, pulled once per machine into APPRENTICE_CACHE) hears them, the real Assistant
answers and logs them with source "voice", espeak-ng speaks the answers.

Only the tests that need a spoken question or answer skip without espeak-ng (a system package),
and only the microphone test without PortAudio (libportaudio2); the rest run on any machine.

    python -m pytest tests/test_voice.py -q
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant import config, speech
from assistant.cli import cli, main
from assistant.errors import ApprenticeError
from assistant.voice import Voice, is_goodbye, voice_command

NO_ESPEAK = "needs espeak-ng to speak the test's questions or answers (apt-get install espeak-ng)"
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason=NO_ESPEAK)

QUESTION = "what is the capital of France"


@pytest.fixture(autouse=True)
def wired():
    """`apprentice voice` as the user runs it (a no-op once cli.py registers the command)."""
    if "voice" not in cli.commands:
        cli.add_command(voice_command)


def espeak(text: str, path: Path) -> Path:
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """(frames, channels) float in [-1, 1] → 16-bit PCM WAV."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> dict[str, Path]:
    """Audio that needs no speech engine: a tone (22.05 kHz mono), silence, and files that are not audio."""
    d = tmp_path_factory.mktemp("recordings")
    rate = 22_050
    t = np.arange(int(1.5 * rate)) / rate
    tone = 0.5 * np.sin(2 * np.pi * (220 + 200 * t) * t) * np.minimum(1, 4 * t)  # a rising tone, faded in
    (d / "not-audio.wav").write_text("This is a text file, not a recording.\n" * 20)
    (d / "empty.wav").write_bytes(b"")
    return {
        "tone": write_wav(d / "tone.wav", tone[:, None], rate),
        "silence": write_wav(d / "silence.wav", np.zeros((32_000, 1)), 16_000),
        "not-audio": d / "not-audio.wav",
        "empty": d / "empty.wav",
    }


@pytest.fixture(scope="module")
def wavs(tmp_path_factory, recordings) -> dict[str, Path]:
    """The question as espeak-ng says it (22.05 kHz mono), at 16 kHz mono and 44.1 kHz stereo; and bad input."""
    if shutil.which("espeak-ng") is None:
        pytest.skip(NO_ESPEAK)
    d = tmp_path_factory.mktemp("wavs")
    original = espeak(QUESTION, d / "question.wav")
    samples, rate = speech.read_wav(original)
    mono = samples[:, 0]
    quieter = speech.resample(mono, rate, 44_100) * 0.8  # the channels differ, as in a real stereo recording
    return {
        **recordings,
        "question": original,
        "16k-mono": write_wav(d / "q16.wav", speech.resample(mono, rate, 16_000)[:, None], 16_000),
        "44k-stereo": write_wav(
            d / "q44.wav", np.stack([speech.resample(mono, rate, 44_100), quieter], axis=1), 44_100
        ),
        "goodbye": espeak("goodbye", d / "goodbye.wav"),
    }


@pytest.fixture(scope="module")
def whisper():
    return speech.recognizer("faster-whisper", say=lambda *_: None)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["voice", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def voice_turns() -> list[dict]:
    from assistant.store import Store

    return [t for t in Store().turns(limit=None) if t["source"] == "voice"]


# -- the end-to-end checks -------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("recording", ["16k-mono", "44k-stereo"])
def test_spoken_question_is_answered_by_the_local_student(default_student, wavs, capsys, recording):
    code, out, err = run(capsys, "--wav", wavs[recording], "--tts", "none", "--json")
    assert code == 0, err
    result = json.loads(out)  # stdout holds the JSON object and nothing else
    assert "capital" in result["transcript"].lower() and "france" in result["transcript"].lower()
    assert "paris" in result["answer"].lower()
    assert result["route"] == "local" and result["model"] == "base"
    assert result["tts_ms"] is None and result["stt"] == "faster-whisper"
    assert result["audio_s"] == pytest.approx(1.87, abs=0.05)
    assert result["stt_rtf"] == pytest.approx(result["stt_ms"] / 1000 / result["audio_s"], rel=0.01)
    [turn] = voice_turns()  # logged like a typed query, with source "voice"
    assert turn["id"] == result["turn_id"] and turn["query"] == result["transcript"]
    assert "paris" in turn["answer"].lower()


@pytest.mark.integration
def test_tts_out_writes_the_spoken_answer(default_student, wavs, whisper, tmp_path, capsys):
    out_wav = tmp_path / "answer.wav"
    code, out, err = run(capsys, "--wav", wavs["question"], "--tts-out", out_wav)
    assert code == 0, err
    assert err.index("You said: What is the capital") < err.index("The spoken answer is in")  # transcript first
    assert "paris" in out.lower()
    heard, _ = speech.transcribe(whisper, speech.read_audio(out_wav), "en")  # the WAV says the answer
    assert "paris" in heard.lower()


MARKDOWN = (
    "# Capitals\n\n**Paris** is the *capital* of France.\n\n"
    "| Country | Capital |\n|---|---|\n| France | `Paris` |\n- see [the atlas](https://example.com)"
)


def test_markdown_becomes_plain_words_to_speak():
    words = speech.speakable(MARKDOWN)
    assert words == "Capitals. Paris is the capital of France. Country, Capital. France, Paris. see the atlas."


@needs_espeak
def test_markdown_is_spoken_as_plain_words(whisper, tmp_path):
    answer, words = MARKDOWN, speech.speakable(MARKDOWN)
    raw = speech.synthesize(speech.Espeak(), answer, tmp_path / "raw.wav") and tmp_path / "raw.wav"
    plain = speech.synthesize(speech.Espeak(), words, tmp_path / "plain.wav") and tmp_path / "plain.wav"
    assert "asterisk" in speech.transcribe(whisper, speech.read_audio(raw), "en")[0].lower()  # what we avoid
    heard = speech.transcribe(whisper, speech.read_audio(plain), "en")[0].lower()
    assert "asterisk" not in heard and "paris" in heard and "http" not in heard


@pytest.mark.parametrize("kind", ["24-bit", "8-bit", "float32", "flac"])
def test_other_encodings_read_as_the_same_samples(recordings, tmp_path, kind):
    """What a user's recorder may write: 24/8-bit PCM by the stdlib, float WAV and FLAC through FFmpeg."""
    samples, rate = speech.read_wav(recordings["tone"])
    mono = samples[:, 0]
    path = tmp_path / ("q.flac" if kind == "flac" else "q.wav")
    if kind in ("24-bit", "8-bit"):
        if kind == "24-bit":
            ints = (mono * 8388607).astype(np.int32)
            raw = np.stack([(ints >> s) & 0xFF for s in (0, 8, 16)], axis=1).astype(np.uint8).tobytes()
        else:
            raw = (mono * 127 + 128).astype(np.uint8).tobytes()
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1), w.setsampwidth(3 if kind == "24-bit" else 1), w.setframerate(rate)
            w.writeframes(raw)
    else:
        import av  # installed with faster-whisper

        with av.open(str(path), "w") as out:
            stream = out.add_stream("flac" if kind == "flac" else "pcm_f32le", rate=rate, layout="stereo")
            planes = np.stack([mono, mono])
            frame = av.AudioFrame.from_ndarray(
                (planes * 32767).astype(np.int16) if kind == "flac" else planes,
                format="s16p" if kind == "flac" else "fltp",
                layout="stereo",
            )
            frame.sample_rate = rate
            for packet in [*stream.encode(frame), *stream.encode(None)]:
                out.mux(packet)
    expected, got = speech.read_audio(recordings["tone"]), speech.read_audio(path)
    assert len(got) == len(expected) and np.corrcoef(got, expected)[0, 1] > 0.999


# -- bad input: one sentence, the contract's exit status, no traceback --------------------------


@pytest.mark.parametrize(
    "name, status, words",
    [
        ("silence", 2, "I didn't catch that — try again."),
        ("empty", 2, "is not a recording I can read"),
        ("not-audio", 2, "is not a recording I can read"),
    ],
)
def test_bad_recordings_say_so_in_one_line(recordings, capsys, name, status, words):
    code, out, err = run(capsys, "--wav", recordings[name], "--json")
    assert code == status
    assert out == "" and words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert voice_turns() == []


def test_no_recognizer_installed(recordings, capsys, monkeypatch):
    monkeypatch.setattr(speech, "_loaded", {})
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # `import faster_whisper` fails as if not installed
    code, out, err = run(capsys, "--wav", recordings["tone"], "--tts", "none")
    assert code == 1 and out == ""
    assert "Speech recognition needs faster-whisper" in err and "pip install" in err
    assert len(err.strip().splitlines()) == 1


def test_no_portaudio_library(capsys, monkeypatch):
    import ctypes.util

    real = ctypes.util.find_library
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None if "portaudio" in name else real(name))
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)  # the real import runs again and fails
    code, out, err = run(capsys)
    assert code == 1 and out == ""
    assert err.strip() == (
        "Error: No audio system: the PortAudio library is missing (on Debian or Ubuntu: "
        "sudo apt install libportaudio2); or answer a recording with --wav FILE."
    )


def test_no_microphone(capsys):
    try:
        import sounddevice as sd
    except OSError:  # sounddevice loads PortAudio as it is imported
        pytest.skip("needs the PortAudio library to look for a microphone (apt-get install libportaudio2)")
    try:
        sd.query_devices(kind="input")
        pytest.skip("this machine has a microphone")
    except sd.PortAudioError:
        pass
    code, out, err = run(capsys)
    assert code == 1 and out == ""
    assert err.strip() == "Error: No microphone found: plug one in, or answer a recording with --wav FILE."


def test_json_needs_a_recording(capsys):
    code, out, err = run(capsys, "--json")
    assert code == 2 and "--wav FILE" in err


# -- push-to-talk: the loop goes on after a failed question --------------------------------------


def test_loop_answers_the_next_question_after_a_failure(tiny_student, wavs, whisper, capsys):
    from assistant.core import Assistant

    question = speech.read_audio(wavs["44k-stereo"])

    def mic_broke():
        raise ApprenticeError("The microphone stopped working (device unplugged); try again, or use --wav FILE.")

    takes = [
        lambda: speech.read_audio(wavs["silence"]),
        mic_broke,
        lambda: question,
        lambda: question,
        lambda: speech.read_audio(wavs["goodbye"]),
        lambda: pytest.fail("listened after goodbye"),
    ]
    assistant = Assistant(config.load({"max_tokens": 8}))
    try:
        answered = Voice(assistant, whisper, None, language="en").converse(lambda: takes.pop(0)())
    finally:
        assistant.close()
    err = capsys.readouterr().err
    assert answered == 2 and len(takes) == 1
    assert err.count("I didn't catch that — try again.") == 1
    assert "Error: The microphone stopped working" in err
    assert err.count("You said: What is the capital of France?") == 2
    assert err.rstrip().endswith("Goodbye.")
    turns = voice_turns()
    assert len(turns) == 2 and len({t["conversation_id"] for t in turns}) == 1  # one spoken conversation


def test_goodbye_ends_only_when_it_is_the_whole_utterance():
    assert is_goodbye("Goodbye.") and is_goodbye("Bye bye!")
    assert not is_goodbye("How do you say goodbye in French?")


def test_ask_mode_shows_the_transcript_for_consent(tiny_student, wavs, whisper, monkeypatch):
    """The spoken query takes the typed query's path: in ask mode the user is asked first, and "no" keeps it here."""
    from assistant.core import Assistant

    monkeypatch.setenv("GEMINI_API_KEY", "not-a-real-key")  # a key, so `ask` mode applies; nothing is sent
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:9")
    asked: list[str] = []
    assistant = Assistant(config.load({"max_tokens": 8, "mode": "ask"}))
    try:
        voice = Voice(
            assistant, whisper, None, language="en", force="cloud", consent=lambda text: asked.append(text) or False
        )
        result = voice.ask(speech.read_audio(wavs["question"]), stream=False)
    finally:
        assistant.close()
    assert len(asked) == 1 and "capital" in asked[0] and "France" in asked[0]  # Whisper may hear "capital on"
    assert result["route"] == "local" and "You kept this query on this machine." in result["notes"]
    assert voice_turns()[0]["route"] == "local"


# -- actions by voice: the spoken timer and its ring ------------------------------------------------

# what Whisper writes for "set a timer for five minutes" and its kin: capitals, end punctuation,
# digits or words, fillers; each must be the same 5-minute timer as the typed query
SPOKEN_TIMERS = [
    "Set a timer for five minutes.",
    "Set a timer for 5 minutes.",
    " Set a timer for five minutes",
    "Set a timer for five minutes!",
    "Okay, set a timer for five minutes.",
    "Can you set a timer for 5 minutes?",
    "Please set a timer for five minutes.",
    "Set a timer for five minutes, please.",
    "Set a 5-minute timer.",
    "Set a five minute timer.",
    "Set the timer for 5 min.",
    "Timer for five minutes.",
    "Set a timer for five minutes from now.",
]


@pytest.mark.parametrize("transcript", SPOKEN_TIMERS)
def test_spoken_timer_phrasings_take_the_fast_path(transcript):
    from assistant.tools import fastpath

    call = fastpath.match(transcript)
    assert call is not None and call.name == "timer", transcript
    a = call.arguments
    assert a.get("hours", 0) * 3600 + a.get("minutes", 0) * 60 + a.get("seconds", 0) == 300, a


def test_a_spoken_timer_is_set_by_the_same_assistant_and_logged_as_voice(tiny_student, monkeypatch):
    from assistant.core import Assistant
    from assistant.store import Store

    monkeypatch.setenv("APPRENTICE_RINGER", "off")  # set, not rung: nothing needs to ring
    assistant = Assistant(config.load())
    try:
        answer = assistant.answer("Set a timer for five minutes.", source="voice")
        text = "".join(answer)
        result = answer.result()
    finally:
        assistant.close()
    assert result["action"]["name"] == "timer" and result["action"]["arguments"]["seconds"] == 300
    assert text.startswith("Timer set for 5 minutes; it rings at ")
    [timer] = Store().timers()
    assert timer["status"] == "pending"
    [turn] = voice_turns()
    assert turn["query"] == "Set a timer for five minutes." and json.loads(turn["action"])["name"] == "timer"


def test_a_voice_session_says_a_ring_between_questions(tiny_student, home, capsys):
    """A real ringer rings a 1-second timer; the session, between two questions, says it and marks it shown."""
    import os
    import signal
    import time

    from assistant.core import Assistant
    from assistant.store import Store
    from assistant.tools import ringer

    assistant = Assistant(config.load())
    try:
        "".join(assistant.answer("Set a timer for 1 second.", source="voice"))
        [timer] = Store().timers()
        deadline = time.monotonic() + 15
        while Store().timer(timer["id"])["status"] != "rung" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert Store().timer(timer["id"])["status"] == "rung", "the ringer did not ring"
        capsys.readouterr()
        listens: list[int] = []
        answered = Voice(assistant, None, None).converse(lambda: listens.append(1) and None)
    finally:
        assistant.close()
        if pid := ringer.running(home):
            os.kill(pid, signal.SIGTERM)
    err = capsys.readouterr().err
    assert answered == 0 and listens == [1]
    assert "⏰ Timer done: 1 second." in err and err.index("Timer done") < err.index("Goodbye.")
    assert Store().timer(timer["id"])["shown_at"] is not None  # shown: not missed at the next start


def test_a_ring_that_never_rang_is_said_as_missed_in_a_session(tiny_student, monkeypatch, capsys):
    import datetime as dt

    from assistant.core import Assistant
    from assistant.store import Store
    from assistant.tools import rings

    monkeypatch.setenv("APPRENTICE_RINGER", "off")  # no ringer ran: the timer came due unrung
    store = Store()
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    timer_id = store.add_timer("reminder", rings.utc_iso(hour_ago), label="call mum")
    assistant = Assistant(config.load())
    try:
        said = Voice(assistant, None, None).announce_rings()
        again = Voice(assistant, None, None).announce_rings()
    finally:
        assistant.close()
    assert said == [f"Missed: reminder #{timer_id} “call mum” came due at {said[0].split(' at ', 1)[1]}"]
    assert "while nothing was running to ring it" in said[0] and again == []
    assert Store().timer(timer_id)["status"] == "missed" and said[0] in capsys.readouterr().err


@needs_espeak
@pytest.mark.integration
def test_set_a_timer_for_five_minutes_spoken(tiny_student, whisper, tmp_path, capsys, monkeypatch):
    """Spoken by espeak-ng, heard by Whisper, set by the fast path: the same timer as typed."""
    monkeypatch.setenv("APPRENTICE_RINGER", "off")
    wav = espeak("set a timer for five minutes", tmp_path / "timer.wav")
    code, out, err = run(capsys, "--wav", wav, "--tts", "none", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert "timer" in result["transcript"].lower()
    assert result["action"]["name"] == "timer" and result["action"]["arguments"]["seconds"] == 300
    assert "sentence template" in result["reason"]
