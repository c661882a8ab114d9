"""`apprentice voice`: speak a question, hear the answer, through the same private Assistant.

The recording is transcribed on this machine (assistant/speech.py), the transcript is shown
and then asked like a typed query (same router, privacy mode, consent, redaction and log,
with source "voice"), the answer is printed and spoken.

    apprentice voice                                  # push-to-talk until Ctrl-C or "goodbye"
    apprentice voice --wav question.wav --json        # one recorded question
    apprentice voice --wav q.wav --tts-out answer.wav # write the spoken answer instead of playing it

"Set a timer for five minutes" spoken is a timer like the typed one: the transcript takes the
same fast path. Timers ring during a session: the ringer process says the ring aloud as it
rings, and the session prints it (with the terminal bell) between questions and while it waits
for Enter; a ring that never rang (it came due while no ringer ran) is also spoken here.
"""

from __future__ import annotations

import datetime as dt
import re
import select
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import click

from assistant.errors import ApprenticeError, BadInput
from assistant.options import Asking, QueryOptions, query_options
from assistant.output import ShownAnswer, emit_answer, say, show_notes

GOODBYES = {"goodbye", "good bye", "bye", "bye bye", "goodbye apprentice"}


def is_goodbye(transcript: str) -> bool:
    return " ".join(re.findall(r"[a-z]+", transcript.lower())) in GOODBYES


class Voice:
    """One voice session: a recognizer, a speaker (or None) and the Assistant they talk through."""

    def __init__(
        self,
        assistant,
        recognizer,
        speaker,
        *,
        language: str | None = None,
        log: bool = True,
        force: str | None = None,
        mode: str | None = None,
        consent: Callable[[str], bool] | None = None,
        notes: list[str] | None = None,
    ):
        self.assistant = assistant
        self.recognizer = recognizer
        self.speaker = speaker
        self.language = language
        self.options = dict(log=log, force=force, mode=mode, consent=consent)
        self.notes = list(notes or [])  # from setting up (a setting ignored…): shown with the first answer
        self._ring_store = None  # opened at the first look for rings (the Assistant may be a server's)

    def hear(self, audio) -> tuple[str, float]:
        """(transcript, stt_ms); speech.NotHeard when the recording holds nothing to answer."""
        from assistant import speech

        return speech.transcribe(self.recognizer, audio, self.language)

    def ask(
        self,
        audio,
        conversation_id: int | None = None,
        *,
        stream: bool = True,
        tts_out: Path | None = None,
        heard: tuple[str, float] | None = None,
    ) -> dict:
        """Transcribe one recording, answer it and speak the answer: the `--json` object.

        With `stream`, the transcript, the answer and notes are printed as they come.
        """
        from assistant import speech
        from assistant.render import inert

        text, stt_ms = heard or self.hear(audio)
        if stream:
            say(f"You said: {inert(text)}")
        shown = ShownAnswer(self.assistant.answer(text, conversation_id, source="voice", **self.options), self.notes)
        self.notes = []
        if stream:
            shown.stream()
        else:
            shown.wait()
        result = shown.result()
        tts_ms = self.speak(result["answer"], tts_out, result["notes"]) if self.speaker else None
        if stream:
            shown.notes(result["notes"])  # speaking may have failed, with a note
        audio_s = len(audio) / speech.SAMPLE_RATE
        return {
            **result,
            "transcript": text,
            "stt_ms": round(stt_ms, 1),
            "tts_ms": None if tts_ms is None else round(tts_ms, 1),
            "audio_s": round(audio_s, 3),
            "stt_rtf": round(stt_ms / 1000 / audio_s, 3),
            "stt": self.recognizer.name,
            "tts": self.speaker.name if self.speaker else None,
        }

    def speak(self, answer: str, out: Path | None, notes: list[str]) -> float | None:
        """Say `answer` into `out`, or aloud; the synthesis time in ms (playing is not counted).

        Writing `out` must work (ApprenticeError otherwise); speaking aloud may fail with a
        note: the answer is printed all the same, and this session stops trying to speak.
        """
        from assistant import speech

        words = speech.speakable(answer)
        if not words:
            return None
        if out is not None:
            return speech.synthesize(self.speaker, words, out)
        with tempfile.TemporaryDirectory(prefix="apprentice-tts-") as tmp:
            wav = Path(tmp) / "answer.wav"
            try:
                ms = speech.synthesize(self.speaker, words, wav)
                speech.play(wav)
            except ApprenticeError as exc:
                notes.append(str(exc))
                self.speaker = None
                return None
        return ms

    def announce_rings(self) -> list[str]:
        """Say the rings no surface has shown yet, and mark them shown: printed (with the bell), and
        spoken when nobody has said them aloud (the ringer speaks what it rings; a missed one never
        rang). Cheap when there is nothing: a read of the store. The sentences said."""
        from assistant.render import inert
        from assistant.tools import rings

        try:
            if self._ring_store is None:  # this home's database: the one a running server answers from too
                from assistant.store import Store

                self._ring_store = Store()
            store = self._ring_store
            rows = rings.poll(store)
        except (ApprenticeError, sqlite3.Error):  # the database busy elsewhere: the next look says them
            return []
        said, now = [], dt.datetime.now().astimezone()
        for row in rows:
            if row["status"] == "missed":
                text = inert(rings.missed_text(row, now))
                say(text)
                if self.speaker is not None:
                    trouble: list[str] = []
                    self.speak(text, None, trouble)
                    show_notes(trouble)  # it could not be played: said once, and the session stays silent
            else:  # it rang during this session (and was said aloud then): when, if not just now
                text = inert(rings.ring_text(row))
                if not rings.ringing(row):
                    text += f" (It rang at {rings.clock_words(rings.parse_utc(row['rang_at'] or row['due']), now)}.)"
                say(f"\a⏰ {text}")
            said.append(text)
        if rows:
            rings.mark_shown(store, [r["id"] for r in rows])
        return said

    def converse(self, listen: Callable[[], object], conversation_id: int | None = None) -> int:
        """Push-to-talk until `listen()` returns None (input ended), "goodbye", or Ctrl-C at the prompt.

        Each question goes on the same conversation (`conversation_id`, or a new one). A question
        that fails (nothing heard, an error) says so in one line and the next one still works.
        Returns the answers given.
        """
        from assistant import speech
        from assistant.render import inert

        show_notes(self.notes)  # now, not with the first answer: that may be a while
        self.notes, answered = [], 0
        while True:
            self.announce_rings()  # what rang while the last answer was coming or being spoken
            try:
                audio = listen()
            except (KeyboardInterrupt, EOFError):
                audio = None
            except ApprenticeError as exc:
                say(f"Error: {exc}")
                continue
            if audio is None:
                break
            try:
                heard = self.hear(audio)
                if is_goodbye(heard[0]):
                    say(f"You said: {inert(heard[0])}")
                    break
                result = self.ask(audio, conversation_id, heard=heard)
                conversation_id = result["conversation_id"]
                answered += 1
            except speech.NotHeard as exc:
                say(str(exc))
            except ApprenticeError as exc:
                say(f"Error: {exc}")
            except KeyboardInterrupt:
                click.echo()
                say("(stopped)")
        say("Goodbye.")
        return answered


# -- the microphone ---------------------------------------------------------------------------


class Microphone:
    """Push-to-talk on the default input device, through sounddevice (PortAudio)."""

    SILENCE_S = 1.2  # this long a pause after speech ends a question
    WAIT_S = 8.0  # no speech at all for this long ends it too
    LONGEST_S = 30.0

    def __init__(self):
        try:
            import sounddevice as sd
        except OSError:  # sounddevice raises "PortAudio library not found"
            raise ApprenticeError(
                "No audio system: the PortAudio library is missing (on Debian or Ubuntu: "
                "sudo apt install libportaudio2); or answer a recording with --wav FILE."
            ) from None
        except ImportError:
            raise ApprenticeError(
                "Listening needs sounddevice: pip install 'apprentice[voice]'; or answer a recording with --wav FILE."
            ) from None
        try:
            device = sd.query_devices(kind="input")
        except (sd.PortAudioError, ValueError):
            raise ApprenticeError("No microphone found: plug one in, or answer a recording with --wav FILE.") from None
        self.sd = sd
        self.rate = int(device["default_samplerate"])

    def record(self, stop: Callable[[], bool]):
        """Record until `stop()` (Enter), a pause after speech, or LONGEST_S: 16 kHz mono float32."""
        import queue

        import numpy as np

        from assistant import speech

        blocks: queue.Queue = queue.Queue()
        block = self.rate // 20  # 50 ms
        heard, floor, quiet_s, total_s, kept = False, None, 0.0, 0.0, []
        try:
            with self.sd.InputStream(
                samplerate=self.rate,
                channels=1,
                dtype="float32",
                blocksize=block,
                callback=lambda data, *_: blocks.put(data[:, 0].copy()),
            ):
                while total_s < self.LONGEST_S and not stop():
                    try:
                        chunk = blocks.get(timeout=0.5)
                    except queue.Empty:
                        continue
                    kept.append(chunk)
                    total_s += len(chunk) / self.rate
                    level = float(np.sqrt(np.mean(chunk**2)))
                    floor = level if floor is None else min(floor, level)
                    if level > max(0.01, 3 * floor):
                        heard, quiet_s = True, 0.0
                    else:
                        quiet_s += len(chunk) / self.rate
                    if (heard and quiet_s >= self.SILENCE_S) or (not heard and total_s >= self.WAIT_S):
                        break
        except self.sd.PortAudioError as exc:
            raise ApprenticeError(f"The microphone stopped working ({exc}); try again, or use --wav FILE.") from None
        audio = np.concatenate(kept) if kept else np.zeros(0, np.float32)
        return speech.resample(audio, self.rate)

    def listen(self, idle: Callable[[], object] | None = None):
        """Wait for Enter, then record one question; None when the input ends. While waiting,
        `idle()` runs about once a second (the session shows rings as they happen)."""
        say("Press Enter and ask (Enter or a pause ends the question; Ctrl-C quits).")
        if idle is not None:
            while not _ready(sys.stdin, 1.0):
                idle()
        if not sys.stdin.readline():
            return None
        say("Listening…")
        return self.record(_enter_pressed)


def _ready(stream, seconds: float) -> bool:
    """Whether `stream` has input (or has ended) within `seconds`; True where it cannot be watched."""
    try:
        return bool(select.select([stream], [], [], seconds)[0])
    except (OSError, ValueError):
        return True


def _enter_pressed() -> bool:
    """True once a line is waiting on stdin (read and dropped): Enter ends a recording."""
    try:
        if select.select([sys.stdin], [], [], 0)[0]:
            sys.stdin.readline()
            return True
    except (OSError, ValueError):
        pass
    return False


# -- the command ------------------------------------------------------------------------------


@click.command("voice")
@click.option(
    "--wav",
    "wav",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Answer one recorded question (WAV, any rate or channels) instead of listening.",
)
@click.option(
    "--stt",
    type=click.Choice(["auto", "faster-whisper", "mlx-whisper"]),
    default="auto",
    show_default=True,
    help="Speech recognizer: auto is mlx-whisper on Apple silicon when ready, else faster-whisper.",
)
@click.option(
    "--tts",
    type=click.Choice(["auto", "say", "espeak-ng", "none"]),
    default="auto",
    show_default=True,
    help="Speech engine for the answer: auto is `say` on macOS, else espeak-ng; none stays silent.",
)
@click.option(
    "--tts-out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.wav",
    help="Write the spoken answer to FILE.wav instead of playing it (with --wav).",
)
@click.option(
    "--language",
    metavar="CODE",
    default="en",
    show_default=True,
    help="Language spoken (fr, de…); auto detects it, at about 0.5 s per question.",
)
@query_options
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON object (with --wav).")
def voice_command(
    wav,
    stt,
    tts,
    tts_out,
    language,
    options: QueryOptions,
    json_mode,
):
    """Ask by voice: the question is transcribed on this machine, the answer printed and spoken.

    Without --wav, push-to-talk: press Enter, ask, and Enter or a pause ends the question;
    repeat until Ctrl-C or "goodbye". The transcript is shown before the answer.

    \b
    Examples:
      apprentice voice
      apprentice voice --wav question.wav --json --tts none
      apprentice voice --wav question.wav --tts-out answer.wav
    """
    from assistant import speech

    if wav is None and (json_mode or tts_out):
        raise BadInput("--json and --tts-out answer one recording: add --wav FILE.")
    if tts_out is not None:
        if tts == "none":
            raise BadInput("--tts none and --tts-out contradict each other; choose one.")
        if not tts_out.parent.is_dir():
            raise BadInput(f"Cannot write {tts_out}: the folder {tts_out.parent} does not exist.")
    asking = Asking(options, source="voice")
    microphone = None
    if wav is not None:
        audio = speech.read_audio(wav)
        speech.require_speech(audio)  # before loading anything: a silent file is answered at once
    else:
        microphone = Microphone()
    speaker = speech.speaker(tts)
    if speaker is None and tts == "auto":
        asking.notes.append("No speech engine found (install espeak-ng); answers are printed only.")
    if tts_out is not None and speaker is None:
        raise ApprenticeError("No speech engine to write --tts-out with: install espeak-ng, or on macOS use --tts say.")
    engine = asking.recognizer(stt)  # a running server's, kept loaded there, else loaded here
    assistant = asking.start()
    voice = Voice(
        assistant,
        engine,
        speaker,
        language=None if language == "auto" else language,
        notes=asking.notes,
        **asking.answer_options(),
    )
    try:
        if microphone is not None:
            voice.converse(lambda: microphone.listen(idle=voice.announce_rings), asking.conversation_id)
            return
        result = voice.ask(audio, asking.conversation_id, stream=not json_mode, tts_out=tts_out)
    finally:
        asking.close()
    if json_mode:
        emit_answer(result)
    elif tts_out is not None and result["tts_ms"] is not None:
        say(f"The spoken answer is in {tts_out}.")
