"""Privacy modes and the Gemini key: what may leave the machine, and whether anything can.

| mode      | what may leave the machine                                   |
|-----------|--------------------------------------------------------------|
| `private` | nothing: no cloud client is built, no socket is opened       |
| `ask`     | a hard query, redacted, after the user says yes to that query |
| `auto`    | hard queries, redacted, without asking each time              |

With no Gemini key every mode acts as `private` and says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from assistant import config

KEY_ENV = ("GEMINI_API_KEY", "GOOGLE_API_KEY")


def key_file() -> Path:
    return config.home() / "keys" / "gemini"


def gemini_key() -> str | None:
    """The Gemini key from the environment or `apprentice keys set gemini`; never printed or logged."""
    for name in KEY_ENV:
        if os.environ.get(name, "").strip():
            return os.environ[name].strip()
    try:
        return key_file().read_text().strip() or None
    except OSError:
        return None


def key_source() -> str | None:
    """Where the key comes from: "environment", "key file", or None."""
    if any(os.environ.get(name, "").strip() for name in KEY_ENV):
        return "environment"
    return "key file" if gemini_key() else None


def store_key(key: str) -> None:
    """Write the key readable by the user only; it never goes into the database."""
    path = key_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_TRUNC


def default_mode(settings: config.Settings) -> str:
    """The configured mode; unset means private until a key is set, then ask."""
    return settings.mode or ("ask" if gemini_key() else "private")


def effective_mode(mode: str, has_key: bool) -> tuple[str, str | None]:
    """The mode that applies, and a note when it differs from the one asked for."""
    if mode != "private" and not has_key:
        return "private", (
            f"{mode} mode needs a Gemini key (set GEMINI_API_KEY or run `apprentice keys set gemini`); "
            "answering privately."
        )
    return mode, None
