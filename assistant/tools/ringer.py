"""The ringer: one background process per APPRENTICE_HOME that rings timers, alarms and reminders.

Setting a timer calls `ensure_running()`, which starts one when none runs. It detaches fully (a
session of its own, no terminal, output to APPRENTICE_HOME/logs/ringer.log), so a timer set by a
one-shot `apprentice ask` rings after that command has exited. A lock on APPRENTICE_HOME/ringer.lock
(fcntl.flock, released by the kernel however the process ends) keeps it single. It sleeps until
the next due time, re-reading the store every few seconds or at once when woken (SIGUSR1, sent when
a timer is set or cancelled), and exits when nothing is pending or its database was removed.

A ring marks the row rung first (one UPDATE ... WHERE status = 'pending': two processes never ring
the same timer), then shows a desktop notification through `notify-send` where there is one, and
speaks the ring through the voice stack's speaker (espeak-ng, or `say` on macOS) when one is
installed. APPRENTICE_RING_WAV=1 keeps each spoken ring as APPRENTICE_HOME/rings/<id>.wav instead
of deleting it once played (what tests check on a machine with no sound device). The terminal
bell and the chat app's notice belong to the surfaces that are open: they show rings through
`rings.due_unshown` (a command's start) and `rings.poll` (the chat app, every second).
APPRENTICE_RINGER=off starts no ringer (the surfaces still show what came due, as missed).

    python -m assistant.tools.ringer        # run in the foreground; exits at once if one runs
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from assistant import config

POLL_S = 5.0  # re-read the store this often even when not woken: a cancel elsewhere, a clock change
LOCK_NAME = "ringer.lock"
LOG_MAX_BYTES = 1_000_000
LOOK_S = 0.25  # a ringer taking the lock waits out another process's look at it (held for microseconds)
_started: list[subprocess.Popen] = []  # kept so a ringer that ends is reaped, not left a zombie


def _lock_path(home: Path) -> Path:
    return home / LOCK_NAME


def _log(message: str) -> None:
    print(f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M:%S} {message}", flush=True)


def _try_lock(home: Path, patience_s: float = 0.0):
    """The open lock file when this process now holds the ringer's lock; None when another does."""
    from assistant.locks import try_lock

    return try_lock(_lock_path(home), patience_s)


def running(home: Path | None = None) -> int | None:
    """The ringer's process id when one runs for this home (0 while it is starting), else None."""
    home = home or config.home()
    if not _lock_path(home).exists():
        return None
    held = _try_lock(home)
    if held is not None:  # nobody holds it: no ringer
        fcntl.flock(held, fcntl.LOCK_UN)
        held.close()
        return None
    text = _lock_path(home).read_text().strip()
    return int(text) if text.isdigit() else 0


def _signal(pid: int) -> None:
    """SIGUSR1 to the ringer: it looks at the store now. Where /proc shows what a process is, one
    that is not a ringer (a stale number left by a killed one) is never signalled."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        if cmdline.parent.parent.is_dir() and b"assistant.tools.ringer" not in cmdline.read_bytes():
            return
        os.kill(pid, signal.SIGUSR1)
    except (OSError, ProcessLookupError, PermissionError):
        pass  # it is ending: a timer is written first, and the ringer looks once more before it goes


def wake(home: Path | None = None) -> None:
    """Have a running ringer re-read the store now (a timer was cancelled: it may have nothing left)."""
    if pid := running(home or config.home()):
        _signal(pid)


def ensure_running(home: Path | None = None, wake: bool = True) -> int | None:
    """Start a ringer for this home if none runs, or (`wake`) have the one that does look at the
    store now, to see a new timer. Its process id (0 while it starts), or None when APPRENTICE_RINGER=off."""
    for child in list(_started):
        if child.poll() is not None:
            _started.remove(child)
    if os.environ.get("APPRENTICE_RINGER", "").strip().lower() in ("off", "0", "no", "false"):
        return None
    home = home or config.home()
    pid = running(home)
    if pid and wake:
        _signal(pid)
    if pid is not None:
        return pid
    return start(home)


def start(home: Path) -> int:
    """Start a detached ringer: its own session, no terminal, output to logs/ringer.log."""
    (home / "logs").mkdir(parents=True, exist_ok=True)
    log = home / "logs" / "ringer.log"
    if log.exists() and log.stat().st_size > LOG_MAX_BYTES:  # a line per ring: keep one older file, no more
        log.replace(log.with_suffix(".log.1"))
    env = dict(os.environ, APPRENTICE_HOME=str(home))
    package_root = str(Path(__file__).resolve().parents[2])  # so `-m assistant...` imports from any folder
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    with open(log, "a") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "assistant.tools.ringer"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            cwd=str(home),
            env=env,
            start_new_session=True,  # no terminal: closing the one that set the timer does not end it
            close_fds=True,
        )
    _started.append(child)
    return child.pid


# -- ringing ---------------------------------------------------------------------------------


def notify(text: str) -> bool:
    """A desktop notification, where `notify-send` exists (a Linux desktop); whether one was shown."""
    program = shutil.which("notify-send")
    if not program:
        return False
    try:
        done = subprocess.run(
            [program, "--app-name=Apprentice", "--urgency=critical", "Apprentice", text],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def speak(text: str, timer_id: int, home: Path) -> Path | None:
    """Say the ring through the voice stack's speaker and play it; the WAV kept when
    APPRENTICE_RING_WAV asks for it. None when no speaker is installed."""
    from assistant import speech
    from assistant.errors import ApprenticeError

    engine = speech.speaker("auto")
    if engine is None:
        return None
    keep = os.environ.get("APPRENTICE_RING_WAV", "").strip().lower() in ("1", "yes", "true", "on")
    folder = home / "rings"
    folder.mkdir(parents=True, exist_ok=True)
    if keep:
        out = folder / f"{timer_id}.wav"
    else:
        fd, name = tempfile.mkstemp(suffix=".wav", dir=folder)
        os.close(fd)
        out = Path(name)
    try:
        speech.synthesize(engine, speech.speakable(text), out)
        try:
            speech.play(out)
        except ApprenticeError as exc:  # no sound device: the notification and the surfaces remain
            _log(f"could not play the ring: {exc}")
    except ApprenticeError as exc:
        _log(f"could not speak the ring: {exc}")
        return None
    finally:
        if not keep:
            out.unlink(missing_ok=True)
    return out if keep else None


def ring(row: dict, home: Path) -> None:
    from assistant.tools import rings

    text = rings.ring_text(row)
    _log(f"rang {row['kind']} {row['id']}: {text}")
    notify(text)
    speak(text, row["id"], home)


def ring_due(store, home: Path) -> list[dict]:
    """Ring what is due now; what came due long ago, while no ringer ran, is marked missed instead."""
    from assistant.tools import rings

    now = dt.datetime.now(dt.UTC)
    stale = store.miss_overdue(rings.utc_iso(now - dt.timedelta(seconds=rings.GRACE_S)))
    if stale:
        _log(f"{stale} came due while no ringer ran: missed")
    rung = store.claim_due(rings.utc_iso(now))
    for row in rung:
        try:
            ring(row, home)
        except Exception:  # one ring's failure (a notifier, a speaker) must not silence the rest
            _log(f"ringing {row['kind']} {row['id']} failed:\n{traceback.format_exc()}")
    return rung


# -- the process --------------------------------------------------------------------------------


def _hold(lock) -> None:
    """Write this process's number into the lock it holds, for `running()` and `wake()`."""
    lock.truncate(0)
    lock.write(str(os.getpid()))
    lock.flush()


def _let_go(lock) -> None:
    lock.truncate(0)  # no process number left behind for anyone to signal
    lock.flush()
    fcntl.flock(lock, fcntl.LOCK_UN)
    lock.close()


def main(argv: list[str] | None = None) -> int:
    from assistant.errors import ApprenticeError
    from assistant.store import Store
    from assistant.tools import rings

    home = config.home()
    # SIGUSR1 only wakes the wait below: installed before the lock is taken, so no process can
    # signal a ringer that would still die of it
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGUSR1, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    lock = _try_lock(home, patience_s=LOOK_S)
    if lock is None:
        print(f"A ringer already runs for {home}.", file=sys.stderr)
        return 0
    try:
        store = Store()
    except ApprenticeError as exc:  # a database it cannot open: said in the log, in one sentence
        _log(f"ringer {os.getpid()} cannot start: {exc}")
        _let_go(lock)
        return 1
    _hold(lock)  # only now: whoever sees this number may count on the store being open
    _log(f"ringer {os.getpid()} started")
    try:
        while True:
            if not store.path.exists():  # the home was removed: its timers went with it
                _log(f"{store.path} is gone: nothing left to ring")
                break
            ring_due(store, home)
            due = store.next_due()
            if due is None:
                # Let go, then look once more: a timer written just before a setter saw the lock
                # held (and so started no ringer) is seen here, and this process takes it on.
                _let_go(lock)
                if store.next_due() is None or (lock := _try_lock(home, patience_s=LOOK_S)) is None:
                    break
                _hold(lock)
                continue
            wait = (rings.parse_utc(due) - dt.datetime.now(dt.UTC)).total_seconds()
            select.select([wake_read], [], [], min(POLL_S, max(0.0, wait)))
            try:
                while os.read(wake_read, 512):
                    pass
            except BlockingIOError:
                pass
    except (ApprenticeError, sqlite3.Error) as exc:  # the database went away or stayed locked
        _log(f"ringer {os.getpid()} stopped: {exc} (the next command starts another if timers are pending)")
        return 1
    finally:
        if lock is not None and not lock.closed:
            _let_go(lock)
    _log(f"ringer {os.getpid()} done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
