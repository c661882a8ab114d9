"""One process at a time per home: an advisory lock on a file (the server, the ringer).

The lock is the kernel's (flock): it goes when its holder exits, however it exits, so a
killed process never leaves a lock that blocks the next one.
"""

from __future__ import annotations

import fcntl
import time
from pathlib import Path


def try_lock(path: Path, patience_s: float = 0.0):
    """The open lock file when this process now holds the lock on `path`; None when another does.

    With patience, a lock held only for a moment (another process looking) is waited out.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    give_up = time.monotonic() + patience_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() >= give_up:
                handle.close()
                return None
            time.sleep(0.01)
