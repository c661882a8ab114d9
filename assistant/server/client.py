"""Apprentice's own commands as clients of a running `apprentice serve`, over its Unix socket.

`served()` returns a `RemoteAssistant` when a server runs for this APPRENTICE_HOME, else None;
it answers like `core.Assistant` (`answer(...)` returns something to iterate for text, with
`notes` and `result()`), so `ask` and `voice` print the same either way. A socket left by a
killed server refuses the connection, and the command answers by itself.

Consent in `ask` mode comes back over the socket as a question, and this process's own
`consent` (the terminal) answers it: a served query asks exactly as an unserved one does.

    python -m assistant.server.client "What is the capital of France?"
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from dataclasses import dataclass

from assistant.errors import ApprenticeError
from assistant.server import socket_path


class ServerError(ApprenticeError):
    """An error the server reported, with the exit status it carries."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class ServerGone(ServerError):
    """The server could not be reached, or went away before the answer ended."""


GONE = "The server stopped mid-answer; ask again (with no server, the command answers by itself)."


def _connect(path) -> socket.socket | None:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(str(path))
    except OSError:  # no server, or the socket of a killed one
        client.close()
        return None
    return client


class Connection:
    """One request and its replies, newline-delimited JSON."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.reader = sock.makefile("rb")
        self._sending = threading.Lock()  # a cancel may come from another thread than the answer's

    def send(self, obj: dict) -> None:
        try:
            with self._sending:
                self.sock.sendall((json.dumps(obj, ensure_ascii=False) + "\n").encode())
        except OSError:  # the server was killed (a consent's reply, a cancel): its end is closed
            raise ServerGone(GONE) from None

    def receive(self) -> dict:
        try:
            line = self.reader.readline()
        except OSError:
            line = b""
        if not line:
            raise ServerGone(GONE)
        return json.loads(line)

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


@dataclass
class RemoteDecision:
    """The server's routing decision, as `core.Answer.decision` shows it: where, how likely wrong, why."""

    route: str | None
    score: float | None
    reason: str


class RemoteAnswer:
    """An answer the server gives: iterate for text, then read `result()` (with `"served": true`).

    Like `core.Answer`, it says at once how it was routed (`decision`, `model`, `turn_id`,
    `conversation_id`), and `cancel()` stops it with what arrived kept."""

    served = True

    def __init__(self, connection: Connection, consent):
        self.connection = connection
        self.consent = consent
        self.notes: list[str] = []
        self.text = ""
        self._result: dict | None = None
        self._cancelled = False
        first = connection.receive()
        if first.get("event") == "error":
            connection.close()
            raise ServerError(first["message"], first.get("exit_code", 1))
        self.notes = list(first.get("notes") or [])
        self.decision = RemoteDecision(first.get("route"), first.get("score"), first.get("reason") or "")
        self.model = first.get("model")
        self.turn_id = first.get("turn_id")
        self.conversation_id = first.get("conversation_id")

    def __iter__(self):
        try:
            while self._result is None:
                event = self.connection.receive()
                kind = event.get("event")
                if kind == "text":
                    self.text += event["text"]
                    yield event["text"]
                elif kind == "consent":
                    allowed = bool(self.consent(event["text"])) if self.consent else False
                    self.connection.send({"consent": allowed})
                elif kind == "result":
                    self._result = result = event["result"]
                    self.notes = list(result.get("notes") or [])
                    self.decision = RemoteDecision(result.get("route"), self.decision.score, result.get("reason") or "")
                    self.model, self.turn_id = result.get("model"), result.get("turn_id")
                    self.conversation_id = result.get("conversation_id")
                elif kind == "error":
                    raise ServerError(event["message"], event.get("exit_code", 1))
        finally:
            self.connection.close()  # also on Ctrl-C: the server sees the hang-up and keeps what arrived

    def cancel(self) -> None:
        """Ask the server to stop this answer (from any thread); the result still comes, marked interrupted."""
        if self._cancelled or self._result is not None:
            return
        self._cancelled = True
        try:
            self.connection.send({"cancel": True})
        except ServerGone:  # the server is gone: wake the reader, which then says so
            with contextlib.suppress(OSError):
                self.connection.sock.shutdown(socket.SHUT_RDWR)

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def result(self) -> dict:
        if self._result is None:
            raise ServerGone(GONE)
        return self._result


class RemoteStore:
    """What a command asks of the log before answering."""

    def __init__(self, assistant: RemoteAssistant):
        self.assistant = assistant

    def last_conversation_id(self) -> int | None:
        return self.assistant.request({"op": "last_conversation"}).get("conversation_id")


class RemoteAssistant:
    """The resident Assistant, through the socket."""

    served = True

    def __init__(self, path):
        self.path = path
        self.store = RemoteStore(self)

    def _open(self) -> Connection:
        sock = _connect(self.path)
        if sock is None:
            raise ServerGone(GONE)
        return Connection(sock)

    def request(self, obj: dict, payload: bytes = b"") -> dict:
        connection = self._open()
        try:
            connection.send(obj)
            if payload:
                connection.sock.sendall(payload)
            return connection.receive()
        finally:
            connection.close()

    def answer(
        self,
        query: str,
        conversation_id: int | None = None,
        *,
        source: str = "ask",
        log: bool = True,
        force: str | None = None,
        mode: str | None = None,
        consent=None,
    ) -> RemoteAnswer:
        connection = self._open()
        request = {"op": "answer", "query": query, "conversation_id": conversation_id, "source": source, "log": log}
        request |= {"force": force, "mode": mode, "consent": consent is not None}
        try:
            connection.send(request)
            return RemoteAnswer(connection, consent)
        except BaseException:
            connection.close()
            raise

    def close(self) -> None:
        pass  # the server keeps the student; nothing here holds it


class RemoteRecognizer:
    """The server's speech recognizer, kept loaded there: `speech.transcribe` uses it like a local one."""

    def __init__(self, assistant: RemoteAssistant, choice: str):
        self.assistant = assistant
        self.choice = choice
        self.name = "faster-whisper" if choice == "auto" else choice  # the server's reply says which ran

    def transcribe(self, audio, language: str | None = None) -> str:
        import numpy as np

        data = np.asarray(audio, dtype="<f4").tobytes()
        request = {"op": "transcribe", "stt": self.choice, "language": language, "bytes": len(data)}
        reply = self.assistant.request(request, payload=data)
        if reply.get("event") == "error":
            raise ServerError(reply["message"], reply.get("exit_code", 1))
        self.name = reply.get("name", self.name)
        return reply["text"]


def served() -> RemoteAssistant | None:
    """The running server of this APPRENTICE_HOME, when there is one that answers its socket."""
    path = socket_path()
    if not path.exists():
        return None
    probe = _connect(path)
    if probe is None:
        return None
    probe.close()
    return RemoteAssistant(path)


if __name__ == "__main__":
    remote = served()
    if remote is None:
        sys.exit("No server runs for this APPRENTICE_HOME; start one with `apprentice serve`.")
    answer = remote.answer(" ".join(sys.argv[1:]))
    for chunk in answer:
        print(chunk, end="", flush=True)
    print()
    print(json.dumps(answer.result(), indent=2))
