"""speech.resample: numpy only (a served `apprentice voice` must not wait for scipy.signal to
import), and the same samples as scipy.signal.resample_poly, so Whisper hears what it heard.

    python -m pytest tests/test_resample.py -q
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from assistant import speech

scipy_signal = pytest.importorskip("scipy.signal")


@pytest.mark.parametrize(
    ("rate", "target", "frames"),
    [(22_050, 16_000, 44_100), (44_100, 16_000, 30_001), (16_000, 44_100, 8_000), (8_000, 16_000, 333),
     (48_000, 16_000, 7), (22_051, 16_000, 4_000)],
)  # fmt: skip
def test_resample_gives_what_resample_poly_gives(rate, target, frames):
    x = np.random.default_rng(frames).standard_normal(frames).astype(np.float32) * 0.3
    g = math.gcd(rate, target)
    expected = scipy_signal.resample_poly(x, target // g, rate // g)
    got = speech.resample(x, rate, target)
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-5


def test_reading_a_recording_imports_no_scipy(tmp_path):
    import wave

    path = tmp_path / "q.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22_050)
        w.writeframes((np.sin(np.arange(22_050) / 5) * 9000).astype("<i2").tobytes())
    code = (
        f"import sys; from assistant import speech; a = speech.read_audio({str(path)!r}); "
        "print(len(a), 'scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["16000", "False"]
