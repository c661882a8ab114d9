"""Speech on this machine: read a recording, recognize it, turn an answer into spoken audio.

Recognizers take 16 kHz mono float32 samples and return text: faster-whisper with Whisper
base (int8, the offline default) or, on Apple silicon, mlx-whisper. Speakers write a WAV:
macOS `say` or espeak-ng. Heavy libraries (numpy, faster_whisper, sounddevice, av) are
imported when used, so `apprentice --help` stays fast.

    python -m assistant.speech question.wav        # print what Whisper hears, and how fast
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import subprocess
import sys
import time
import wave
from pathlib import Path

from assistant.errors import ApprenticeError, BadInput

SAMPLE_RATE = 16_000  # what Whisper listens at
QUIET_PEAK = 0.003  # below this (about -50 dBFS) a recording holds nothing to hear


class NotHeard(BadInput):
    """The recording held no speech the recognizer could make out."""

    def __init__(self, message: str = "I didn't catch that — try again."):
        super().__init__(message)


# -- audio in ------------------------------------------------------------------------------


RESAMPLE_BLOCK = 65_536  # output samples computed at once: bounds memory for a long recording


@functools.lru_cache(maxsize=4)
def _polyphase(up: int, down: int):
    """((up, taps) weights, outputs to skip): the low-pass of scipy's resample_poly, split by phase.

    The filter is firwin(2 * half + 1, 1 / max(up, down), window=("kaiser", 5.0)) with gain `up`,
    delayed so that outputs line up with inputs; output j is sum_i table[phase, i] * x[newest - i]
    where (newest, phase) = divmod((j + skip) * down, up)."""
    import numpy as np

    half = 10 * max(up, down)
    cutoff = 1.0 / max(up, down)
    taps = np.arange(2 * half + 1) - half
    h = cutoff * np.sinc(cutoff * taps) * np.kaiser(2 * half + 1, 5.0)
    h = np.concatenate([np.zeros(down - half % down), h / h.sum() * up])
    skip = (half + down - half % down) // down  # outputs of the filter's delay, dropped
    per_phase = -(-len(h) // up)
    table = np.zeros(up * per_phase)
    table[: len(h)] = h
    return table.reshape(per_phase, up).T.astype(np.float32), skip


def resample(samples, rate: int, target: int = SAMPLE_RATE):
    """(frames,) float32 at `rate` → (frames',) at `target`: polyphase, with the filter and alignment
    of scipy.signal.resample_poly (Kaiser window, beta 5), so transcripts do not change with it.

    numpy alone, on purpose: scipy.signal took longer to import (about a second, far more on a
    busy machine) than a served `apprentice voice` has to answer in."""
    import numpy as np

    x = np.asarray(samples, dtype=np.float32)
    if rate == target or len(x) == 0:
        return x
    g = math.gcd(rate, target)
    up, down = target // g, rate // g
    table, skip = _polyphase(up, down)
    per_phase = table.shape[1]
    n = -(-len(x) * up // down)
    beyond = (n + skip) * down // up - len(x) + 1  # the last outputs reach past the end: zeros there
    padded = np.concatenate([np.zeros(per_phase, np.float32), x, np.zeros(max(beyond, 1), np.float32)])
    out = np.empty(n, dtype=np.float32)
    back = np.arange(per_phase)
    for start in range(0, n, RESAMPLE_BLOCK):
        at = (np.arange(start, min(n, start + RESAMPLE_BLOCK)) + skip) * down  # (block,)
        near = padded[(at // up)[:, None] - back + per_phase]  # (block, per_phase) inputs, newest first
        out[start : start + len(at)] = np.einsum("bt,bt->b", near, table[at % up])
    return out


def read_wav(path: Path):
    """(samples (frames, channels) float32 in [-1, 1], rate) of a PCM WAV; wave.Error otherwise."""
    import numpy as np

    with wave.open(str(path), "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        raw = w.readframes(w.getnframes())
    if width == 1:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128
    elif width == 2:
        x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768
    elif width == 3:  # 24-bit: widen each little-endian triple to int32
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        x = ((b[:, 0] << 8 | b[:, 1] << 16 | b[:, 2] << 24) >> 8).astype(np.float32) / 8388608
    elif width == 4:
        x = np.frombuffer(raw, "<i4").astype(np.float32) / 2147483648
    else:
        raise wave.Error(f"{width * 8}-bit samples")
    return x.reshape(-1, channels), rate


def _decode_with_av(path: Path):
    """Any format FFmpeg reads (float WAV, FLAC, MP3, OGG…), as 16 kHz mono; ValueError if not audio."""
    import av  # comes with faster-whisper
    import numpy as np

    chunks = []
    with av.open(str(path)) as container:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise ValueError("no audio stream")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        for frame in container.decode(streams[0]):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


def read_audio(path: Path):
    """A recording as (frames,) float32 at 16 kHz mono, whatever its rate and channel count."""
    not_audio = BadInput(f"{path} is not a recording I can read; give a WAV (or FLAC, MP3, OGG) file.")
    try:
        samples, rate = read_wav(path)
        return resample(samples.mean(axis=1), rate)
    except (wave.Error, EOFError, ValueError):
        pass  # not PCM WAV: let FFmpeg try
    except OSError as exc:
        raise BadInput(f"Cannot read {path} ({exc.strerror or exc}).") from None
    try:
        return _decode_with_av(path)
    except ImportError:
        raise not_audio from None
    except (ValueError, OSError):  # av.error.FFmpegError is a ValueError or an OSError
        raise not_audio from None


def require_speech(audio) -> None:
    """An empty or silent recording never reaches the recognizer (Whisper invents words for it)."""
    import numpy as np

    if len(audio) < SAMPLE_RATE // 10 or float(np.max(np.abs(audio))) < QUIET_PEAK:
        raise NotHeard()


# -- speech to text ------------------------------------------------------------------------

_loaded: dict[str, object] = {}  # one recognizer per engine and process: loading takes a while
MLX_WHISPER_REPO = "mlx-community/whisper-base-mlx"


def _missing(engine: str) -> ApprenticeError:
    return ApprenticeError(
        f"Speech recognition needs {engine}, which is not installed: "
        "pip install 'apprentice[voice]' (on Apple silicon: 'apprentice[voice-mac]')."
    )


class FasterWhisper:
    """Whisper base on CTranslate2: int8 on the CPU, two threads."""

    name = "faster-whisper"

    def __init__(self, say=print):
        try:
            from faster_whisper import WhisperModel
        except (ImportError, OSError):  # OSError: CTranslate2's shared library would not load
            raise _missing("faster-whisper") from None
        from assistant.models.whisper import pull_whisper

        path = pull_whisper(say=say)
        try:
            self.model = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ApprenticeError(
                f"Whisper base in {path} would not load ({exc}); remove that folder and run "
                "`apprentice model pull whisper-base` again."
            ) from None

    def transcribe(self, audio, language: str | None = None) -> str:
        # Segments judged to hold no speech (no_speech_prob > 0.6 and low log-prob) are dropped.
        try:
            segments, _ = self.model.transcribe(audio, language=language, beam_size=5, condition_on_previous_text=False)
            return " ".join(s.text.strip() for s in segments).strip()
        except ValueError as exc:
            if "language code" not in str(exc):
                raise
            raise BadInput(
                f"Whisper does not know the language {language!r}; use a code such as en, fr or de, or --language auto."
            ) from None


class MlxWhisper:
    """Whisper base on MLX (Apple silicon): fast on the GPU; its weights come from Hugging Face."""

    name = "mlx-whisper"

    def __init__(self, say=print):
        try:
            import mlx_whisper
        except (ImportError, OSError):
            raise _missing("mlx-whisper") from None
        self._transcribe = mlx_whisper.transcribe
        self.repo = os.environ.get("APPRENTICE_MLX_WHISPER", MLX_WHISPER_REPO)
        if not mlx_whisper_available():
            raise ApprenticeError(
                f"mlx-whisper needs the {self.repo} weights on this machine: fetch them once with "
                f"`huggingface-cli download {self.repo}` (or set APPRENTICE_MLX_WHISPER to a folder), "
                "or use --stt faster-whisper."
            )

    def transcribe(self, audio, language: str | None = None) -> str:
        return self._transcribe(audio, path_or_hf_repo=self.repo, language=language)["text"].strip()


def mlx_whisper_available() -> bool:
    """mlx-whisper is installed and its weights are already here (nothing is fetched at query time)."""
    repo = os.environ.get("APPRENTICE_MLX_WHISPER", MLX_WHISPER_REPO)
    if Path(repo).expanduser().is_dir():
        return True
    try:
        import mlx_whisper  # noqa: F401
        from huggingface_hub import try_to_load_from_cache
    except (ImportError, OSError):
        return False
    return isinstance(try_to_load_from_cache(repo, "config.json"), str)


ENGINES = {"faster-whisper": FasterWhisper, "mlx-whisper": MlxWhisper}


def recognizer(choice: str = "auto", say=print):
    """The recognizer `--stt` names; `auto`: mlx-whisper on Apple silicon when ready, else faster-whisper."""
    if choice == "auto":
        apple = sys.platform == "darwin" and os.uname().machine == "arm64"
        choice = "mlx-whisper" if apple and mlx_whisper_available() else "faster-whisper"
    if choice not in _loaded:
        _loaded[choice] = ENGINES[choice](say=say)
    return _loaded[choice]


def transcribe(engine, audio, language: str | None = None) -> tuple[str, float]:
    """(transcript, milliseconds); NotHeard when there is nothing to hear or nothing was recognized."""
    require_speech(audio)
    started = time.perf_counter()
    text = engine.transcribe(audio, language=language)
    ms = (time.perf_counter() - started) * 1000
    if not re.search(r"\w", text):
        raise NotHeard()
    return text, ms


# -- text to speech ------------------------------------------------------------------------


def speakable(markdown: str) -> str:
    """Markdown as plain sentences for a speech engine: no "asterisk asterisk", no URLs in links."""
    text = re.sub(r"```.*?(```|$)", " (code shown on screen) ", markdown, flags=re.S)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)  # images: their alt text
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links: their words
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    text = re.sub(r"</?[A-Za-z][^>]*>", " ", text)  # HTML tags
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if re.fullmatch(r"[|:\-\s]*", line) or re.fullmatch(r"([-*_]\s*){3,}", line):
            continue  # blank, table rule, horizontal rule
        line = re.sub(r"^(#{1,6}|>+|[-*+•])\s+", "", line)  # heading, quote, bullet markers
        if "|" in line:  # a table row: its cells, one after the other
            line = ", ".join(c.strip() for c in line.strip("|").split("|") if c.strip())
        line = re.sub(r"(?<=\d)\s*\*\s*(?=\d)", " times ", line)
        line = re.sub(r"(\*\*|__|~~)(.+?)\1", r"\2", line)
        line = re.sub(r"(?<![\w*])[*_](?!\s)(.+?)(?<!\s)[*_](?![\w*])", r"\1", line)
        line = re.sub(r"[*#_~]{2,}|(?<!\w)[*#~](?!\w)", " ", line).strip()  # stray markers
        if line:
            lines.append(line if line[-1] in ".!?:;," else line + ".")  # a pause between items
    text = " ".join(lines)
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


class Espeak:
    name = "espeak-ng"
    program = "espeak-ng"

    def command(self, out: Path) -> list[str]:
        return [self.program, "--stdin", "-w", str(out)]  # the text comes on stdin, never as options


class Say:
    name = "say"
    program = "say"

    def command(self, out: Path) -> list[str]:
        return [self.program, "-o", str(out), "--file-format=WAVE", "--data-format=LEI16@22050"]


SPEAKERS = {"say": Say, "espeak-ng": Espeak}


def speaker(choice: str = "auto"):
    """The speech engine `--tts` names, None for `none` (or `auto` with none installed)."""
    if choice == "none":
        return None
    if choice == "auto":
        order = ("say", "espeak-ng") if sys.platform == "darwin" else ("espeak-ng",)
        return next((SPEAKERS[n]() for n in order if shutil.which(n)), None)
    if not shutil.which(SPEAKERS[choice].program):
        hint = "sudo apt install espeak-ng" if choice == "espeak-ng" else "it comes with macOS"
        raise ApprenticeError(f"{choice} is not installed ({hint}); use --tts none to stay silent.")
    return SPEAKERS[choice]()


def synthesize(engine, text: str, out: Path) -> float:
    """Speak `text` (already plain) into the WAV `out`; the milliseconds it took."""
    started = time.perf_counter()
    try:
        done = subprocess.run(engine.command(out), input=text, text=True, capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ApprenticeError(f"{engine.name} could not speak the answer ({exc}).") from None
    if done.returncode != 0 or not out.exists() or out.stat().st_size <= 44:
        detail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise ApprenticeError(f"{engine.name} could not speak the answer ({detail[0]}).")
    return (time.perf_counter() - started) * 1000


def play(path: Path) -> None:
    """Play a WAV on the default output; ApprenticeError when there is none."""
    if sys.platform == "darwin" and shutil.which("afplay"):
        if subprocess.run(["afplay", str(path)], capture_output=True).returncode == 0:
            return
    try:
        import sounddevice as sd
    except (ImportError, OSError):  # not installed, or no PortAudio
        sd = None
    if sd is not None:
        try:
            samples, rate = read_wav(path)
            sd.play(samples, rate)
            sd.wait()
            return
        except (sd.PortAudioError, wave.Error):  # no output device
            pass
        finally:
            sd.stop()
    for player in ("paplay", "aplay"):
        if shutil.which(player) and subprocess.run([player, str(path)], capture_output=True).returncode == 0:
            return
    raise ApprenticeError("Cannot play the answer aloud: no audio output. --tts-out FILE.wav writes it instead.")


if __name__ == "__main__":
    audio = read_audio(Path(sys.argv[1]))
    engine = recognizer("auto")
    words, ms = transcribe(engine, audio)
    print(f"{words!r}  ({engine.name}: {ms:.0f} ms for {len(audio) / SAMPLE_RATE:.2f} s of audio)")
