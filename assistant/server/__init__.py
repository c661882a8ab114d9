"""`apprentice serve`: one resident process per APPRENTICE_HOME that keeps the student loaded.

It answers Apprentice's own commands over a Unix socket (APPRENTICE_HOME/serve.sock, mode
0600) and other tools over an OpenAI-compatible HTTP API on loopback. This module is what a
client needs to find it, and stays light: `apprentice ask` imports it before deciding whether
to load the student itself.

    APPRENTICE_HOME/serve.lock    flock held by the running server (released by the kernel however it ends)
    APPRENTICE_HOME/serve.json    where it listens: pid, socket, url, started
    APPRENTICE_HOME/serve.sock    the Unix socket (in a private temporary folder when the home's path
                                  is too long for a socket address)

    apprentice serve --status --json   # the running server's state
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from pathlib import Path

from assistant import config

LOCK_NAME = "serve.lock"
STATE_NAME = "serve.json"
SOCKET_NAME = "serve.sock"
SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux, 104 on macOS


def lock_path(home: Path | None = None) -> Path:
    return (home or config.home()) / LOCK_NAME


def state_path(home: Path | None = None) -> Path:
    return (home or config.home()) / STATE_NAME


def socket_path(home: Path | None = None) -> Path:
    """APPRENTICE_HOME/serve.sock; for a home whose path is too long for a socket's address, a
    socket named after the home in a folder of this user's own under the temporary folder."""
    home = home or config.home()
    path = home / SOCKET_NAME
    if len(str(path)) <= SOCKET_PATH_MAX:
        return path
    digest = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"apprentice-{os.getuid()}" / f"{digest}.sock"


def take_lock(home: Path, patience_s: float = 0.0):
    """The open lock file when this process now holds the server lock; None when a server runs."""
    from assistant.locks import try_lock

    return try_lock(lock_path(home), patience_s)


def status(home: Path | None = None) -> dict | None:
    """The running server's state (pid, socket, url, started), or None when none runs.

    A state file or socket left by a killed server is recognised by its lock being free, and
    removed here, so it never misleads the next command."""
    home = home or config.home()
    if not lock_path(home).exists():
        return None
    handle = take_lock(home)
    if handle is not None:  # nobody holds it: whatever a killed server left is stale
        try:
            state_path(home).unlink(missing_ok=True)
            socket_path(home).unlink(missing_ok=True)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        return None
    try:
        return json.loads(state_path(home).read_text())
    except (OSError, ValueError):
        return {"pid": None, "starting": True}  # the lock is held but the state is not written yet
