"""The resident server: one Assistant, kept loaded, answering over a Unix socket and over HTTP.

    server = Server(settings)
    server.start()          # takes the lock, loads the student, binds both listeners
    server.wait()           # until stop() (SIGTERM, `apprentice serve --stop`)

One query runs at a time (`Desk`): the student has one owner thread and the Assistant keeps
per-query state, so callers wait their turn; an HTTP caller that would wait behind too many
others gets 503 with Retry-After instead. The socket speaks newline-delimited JSON (see
`SocketHandler`); the HTTP API is in assistant/server/api.py. While it runs, the server also
rings timers (`RingerThread`), under the ringer's own lock, so there is never a second ringer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import os
import select
import socket
import socketserver
import threading
import time
from pathlib import Path

from assistant import config
from assistant.errors import ApprenticeError
from assistant.server import socket_path, state_path, status, take_lock


class Busy(ApprenticeError):
    """Too many callers are already waiting for the student."""


class Desk:
    """One query at a time on the one Assistant, and a bounded line of callers waiting for it."""

    def __init__(self, line: int):
        self.line = line  # callers allowed to wait behind the one being answered
        self._turn = threading.Lock()
        self._count = threading.Lock()
        self.waiting = 0

    @contextlib.contextmanager
    def turn(self, bounded: bool = True):
        with self._count:
            if bounded and self.waiting > self.line:
                raise Busy(f"{self.waiting} queries are already waiting; try again in a few seconds.")
            self.waiting += 1
        try:
            self._turn.acquire()
        finally:
            with self._count:
                self.waiting -= 1
        try:
            yield
        finally:
            self._turn.release()


def is_loopback(host: str) -> bool:
    """Whether every address `host` names is on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False
        return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def check_listen(settings: config.Settings) -> None:
    """Loopback only, unless config.toml says otherwise explicitly, and then only behind a token."""
    if is_loopback(settings.serve_host):
        return
    if not settings.serve_allow_remote:
        raise ApprenticeError(
            f"Refusing to listen on {settings.serve_host}, which other machines can reach; "
            "set serve_allow_remote = true and a serve_token in config.toml if that is what you want."
        )
    if not settings.serve_token:
        raise ApprenticeError(
            f"Listening on {settings.serve_host} needs a serve_token in config.toml, "
            "which clients then send as a bearer token."
        )


class Server:
    """The resident Assistant and its two listeners."""

    def __init__(self, settings: config.Settings, say=lambda message: None):
        self.settings = settings
        self.home = config.home()
        self.say = say
        self.desk = Desk(settings.serve_queue)
        self.assistant = None
        self.started = None
        self._lock = None
        self._unix = None
        self._http = None
        self._ringer = None
        self._stopped = threading.Event()
        self._stopping = threading.Lock()
        self.ears = threading.Lock()  # the speech recognizer, kept loaded once a voice command used it
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}/v1"

    # -- starting and stopping -------------------------------------------------------------

    def start(self) -> None:
        check_listen(self.settings)
        self._lock = take_lock(self.home, patience_s=0.5)  # waits out a `status()` looking
        if self._lock is None:
            running = status(self.home) or {}
            where = running.get("url") or "this home"
            raise ApprenticeError(
                f"A server already runs for {self.home} (pid {running.get('pid')}, {where}); "
                "`apprentice serve --stop` stops it."
            )
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        from assistant.core import Assistant
        from assistant.models.pull import ensure_default
        from assistant.server.api import ApiServer
        from assistant.store import Store

        # whatever a killed server left: the lock is ours, so nobody else uses them
        socket_path(self.home).unlink(missing_ok=True)
        state_path(self.home).unlink(missing_ok=True)
        ensure_default(self.say)
        self.assistant = Assistant(self.settings, store=Store(on_wait=self.say))
        self.assistant.student()  # loaded now, so the first query does not pay for it
        if self.assistant.default_mode() != "private":
            self.assistant.embedder.start()  # the router compares queries with past outcomes
        threading.Thread(target=self._load_ears, name="serve-ears", daemon=True).start()
        path = socket_path(self.home)
        if path.parent != self.home:  # the home's path is too long for a socket address
            path.parent.mkdir(mode=0o700, exist_ok=True)
            if path.parent.stat().st_uid != os.getuid() or path.parent.stat().st_mode & 0o077:
                raise ApprenticeError(f"{path.parent} is not this user's alone; remove it and start again.")
        self._unix = UnixServer(str(path), self)
        host, port = self.settings.serve_host, self.settings.serve_port
        try:
            self._http = ApiServer((host, port), self)
        except OSError as exc:
            raise ApprenticeError(
                f"Cannot listen on {host}:{port} ({exc.strerror or exc}); "
                "choose another port with --port or serve_port in config.toml."
            ) from None
        self.started = dt.datetime.now(dt.UTC).isoformat()
        for listener in (self._unix, self._http):
            thread = threading.Thread(
                target=listener.serve_forever, name=f"serve-{type(listener).__name__}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        self._ringer = RingerThread(self.home, self._stopped)
        self._ringer.start()
        self._write_state()

    def _load_ears(self) -> None:
        """Load the speech recognizer when Whisper is already on this machine (nothing is fetched for it)."""
        from assistant.models import whisper

        if whisper.installed() is None:
            return  # loaded by the first voice command instead, which says it fetches Whisper
        from assistant import speech

        with self.ears, contextlib.suppress(ApprenticeError):
            speech.recognizer("auto", say=self.say)

    def _write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "socket": str(socket_path(self.home)),
            "url": self.url,
            "host": self.settings.serve_host,
            "port": self._http.server_address[1],
            "started": self.started,
            "home": str(self.home),
        }
        tmp = state_path(self.home).with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(state_path(self.home))

    def state(self) -> dict:
        """What `apprentice serve --status` shows: where it listens, what answers, what waits."""
        from assistant.models import registry

        active = registry.active_name()
        loaded = self.assistant._student.name if self.assistant and self.assistant._student else None
        return json.loads(state_path(self.home).read_text()) | {
            "student": active,
            "loaded": loaded,
            "waiting": self.desk.waiting,
            "ringer": self._ringer is not None and self._ringer.holding,
        }

    def wait(self) -> None:
        while not self._stopped.wait(0.5):
            pass

    def stop(self) -> None:
        """Close the listeners, remove the socket and state, let go of the lock, free the student."""
        self._stopped.set()
        with self._stopping:
            self._close()

    def _close(self) -> None:
        serving = len(self._threads)  # shutdown() waits for a serve_forever that runs: only those
        for i, listener in enumerate((self._unix, self._http)):
            if listener is not None:
                if i < serving:
                    listener.shutdown()
                listener.server_close()
        self._unix = self._http = None
        self._threads.clear()
        if self._ringer is not None:
            self._ringer.join(timeout=10)
        if self._lock is not None:
            socket_path(self.home).unlink(missing_ok=True)
            state_path(self.home).unlink(missing_ok=True)
            self._lock.close()  # the flock goes with the file
            self._lock = None
        if self.assistant is not None:
            self.assistant.close()
            self.assistant = None

    # -- what the listeners call -----------------------------------------------------------------

    def answer(
        self,
        query: str,
        conversation_id: int | None = None,
        *,
        history=None,
        version=None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        **options,
    ):
        """Start an answer on the resident Assistant (call within a `desk.turn()`); marked served.
        `max_tokens` and `temperature` change how the student decodes this answer only."""
        answer = self.assistant.answer(query, conversation_id, **options)
        answer.served = True
        answer.context.max_tokens = max_tokens
        answer.context.temperature = temperature
        if history is not None:  # the API's conversation as given, not the log's
            answer.context.history = history
        if version is not None:  # a named student version: it answers, whichever is active
            answer.context.student_name = version.name
            answer.context.load_student = lambda: self.assistant.student(version)
        return answer


class UnixServer(socketserver.ThreadingUnixStreamServer):
    """The socket for Apprentice's own commands: readable and writable by this user only."""

    daemon_threads = True

    def __init__(self, path: str, server: Server):
        self.apprentice = server
        old = os.umask(0o177)  # created 0600: no window in which another user could connect
        try:
            super().__init__(path, SocketHandler)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)


MAX_AUDIO_BYTES = 16_000 * 4 * 600  # ten minutes of float32 samples at 16 kHz


class SocketHandler(socketserver.StreamRequestHandler):
    """Newline-delimited JSON, one request a connection.

    → {"op": "answer", "query", "conversation_id", "source", "log", "force", "mode", "consent": bool}
    ← {"event": "started", "notes", "route", "reason", "score", "model", "turn_id", "conversation_id"}
      | {"event": "error", "message", "exit_code"}
    ← {"event": "consent", "text"}   → {"consent": bool}       (ask mode; the client's terminal answers)
    ← {"event": "text", "text"} ...  ← {"event": "result", "result"}
                                   → {"cancel": true} at any time after the consent: the answer stops,
                                     what arrived is kept, and the result still comes

    → {"op": "transcribe", "stt", "language", "bytes"} and that many bytes of float32 samples at 16 kHz
                                   ← {"text", "name"}
    → {"op": "last_conversation"}  ← {"conversation_id"}
    → {"op": "status"}             ← the server's state
    → {"op": "stop"}               ← {"stopping": true}
    """

    def send(self, obj: dict) -> None:
        self.wfile.write((json.dumps(obj, ensure_ascii=False) + "\n").encode())
        self.wfile.flush()

    def handle(self) -> None:
        server: Server = self.server.apprentice
        try:
            line = self.rfile.readline()
            if not line.strip():
                return  # a client seeing whether a server answers
            request = json.loads(line)
            op = request.get("op")
            if op == "answer":
                self._answer(server, request)
            elif op == "last_conversation":
                with server.desk.turn(bounded=False):
                    self.send({"conversation_id": server.assistant.store.last_conversation_id()})
            elif op == "transcribe":
                self._transcribe(server, request)
            elif op == "status":
                self.send(server.state())
            elif op == "stop":
                self.send({"stopping": True})
                server._stopped.set()  # whoever runs `wait()` then stops it
            else:
                self.send({"event": "error", "message": f"Unknown request {op!r}.", "exit_code": 2})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the command went away (Ctrl-C): its answer was finished as interrupted
        except ValueError:
            with contextlib.suppress(OSError):
                self.send({"event": "error", "message": "The request is not JSON.", "exit_code": 2})

    def _transcribe(self, server: Server, request: dict) -> None:
        """Speech to text with the recognizer kept loaded here: `voice` sends float32 samples at 16 kHz."""
        import numpy as np

        from assistant import speech

        size = int(request.get("bytes") or 0)
        if not 0 < size <= MAX_AUDIO_BYTES:
            self.send(
                {"event": "error", "message": "The recording is empty or longer than ten minutes.", "exit_code": 2}
            )
            return
        audio = np.frombuffer(self.rfile.read(size), dtype="<f4")
        try:
            with server.ears:  # one recognizer, one recording at a time
                engine = speech.recognizer(request.get("stt") or "auto", say=server.say)
                text = engine.transcribe(audio, language=request.get("language"))
        except ApprenticeError as exc:
            self.send({"event": "error", "message": str(exc), "exit_code": exc.exit_code})
            return
        self.send({"text": text, "name": engine.name})

    def _consent(self, text: str) -> bool:
        """Ask the client's terminal, through the client, whether `text` may go to the teacher."""
        self.send({"event": "consent", "text": text})
        reply = self.rfile.readline()
        try:
            return bool(json.loads(reply).get("consent")) if reply else False
        except ValueError:
            return False

    def _cancel_asked(self) -> bool:
        """Whether the client asked to stop (Esc in the chat app) or hung up, without waiting to hear."""
        ready, _, _ = select.select([self.connection], [], [], 0)
        if not ready:
            return False
        line = self.rfile.readline()
        try:
            return not line or bool(json.loads(line).get("cancel"))
        except ValueError:
            return False

    def _answer(self, server: Server, request: dict) -> None:
        options = {
            "source": request.get("source") or "ask",
            "log": bool(request.get("log", True)),
            "force": request.get("force"),
            "mode": request.get("mode"),
            "consent": self._consent if request.get("consent") else None,
        }
        with server.desk.turn(bounded=False):  # the user's own command waits its turn, however long
            try:
                answer = server.answer(request.get("query") or "", request.get("conversation_id"), **options)
            except ApprenticeError as exc:
                self.send({"event": "error", "message": str(exc), "exit_code": exc.exit_code})
                return
            decision = answer.decision
            self.send(
                {"event": "started", "notes": answer.notes, "route": decision.route, "reason": decision.reason,
                 "score": decision.score, "model": answer.model, "turn_id": answer.turn_id,
                 "conversation_id": answer.conversation_id}
            )  # fmt: skip
            chunks = iter(answer)
            try:
                for chunk in chunks:
                    if not answer.cancelled and self._cancel_asked():
                        answer.cancel()  # the rest ends at once; the result says it was interrupted
                    self.send({"event": "text", "text": chunk})
            except ApprenticeError as exc:
                self.send({"event": "error", "message": str(exc), "exit_code": exc.exit_code})
                return
            finally:
                chunks.close()  # a client gone mid-answer: the turn is finished as interrupted
            self.send({"event": "result", "result": answer.result()})


class RingerThread(threading.Thread):
    """The timers' ringer, run inside the server under the ringer's own lock (APPRENTICE_HOME/ringer.lock).

    While another ringer holds the lock (one started before the server was), this thread only
    waits for it to end. Holding the lock, it rings as `python -m assistant.tools.ringer` would;
    a command that sets a timer sees the lock held and starts no second ringer. When the server
    stops with timers still pending, it hands them to a detached ringer."""

    def __init__(self, home: Path, stopped: threading.Event):
        super().__init__(name="serve-ringer", daemon=True)
        self.home = home
        self.stopped = stopped
        self.holding = False
        self._store = None

    def run(self) -> None:
        from assistant.tools import ringer

        if os.environ.get("APPRENTICE_RINGER", "").strip().lower() in ("off", "0", "no", "false"):
            return
        lock = None
        try:
            while not self.stopped.is_set():
                if lock is None:
                    lock = ringer._try_lock(self.home, patience_s=ringer.LOOK_S)
                    if lock is None:
                        self.stopped.wait(ringer.POLL_S)
                        continue
                    ringer._hold(lock)
                    self.holding = True
                self._ring_once(ringer)
                self.stopped.wait(1.0)  # a timer set by any command is rung within a second
        finally:
            if lock is not None:
                ringer._let_go(lock)
                self.holding = False
                self._hand_over(ringer)

    def _ring_once(self, ringer) -> None:
        from assistant.store import Store

        try:
            if (self.home / "apprentice.db").exists():
                self._store = self._store or Store()
                ringer.ring_due(self._store, self.home)
        except Exception as exc:  # a database busy or gone: said in the log, tried again next second
            ringer._log(f"the server's ringer could not ring: {exc}")
            self._store = None  # opened afresh next time: the database may have been replaced

    def _hand_over(self, ringer) -> None:
        from assistant.store import Store

        with contextlib.suppress(Exception):
            if (self.home / "apprentice.db").exists() and Store().next_due() is not None:
                ringer.ensure_running(self.home, wake=False)


def wait_gone(home: Path, timeout: float = 15.0) -> bool:
    """Whether the server of `home` ended within `timeout` seconds."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if status(home) is None:
            return True
        time.sleep(0.1)
    return False
