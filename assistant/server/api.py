"""The OpenAI-compatible HTTP API of `apprentice serve`: the subset that clients use.

    GET  /v1/models               the student versions, `apprentice` (routed per query) and
                                  `apprentice-local` (never leaves this machine)
    POST /v1/chat/completions     streaming (server-sent events) or not, with `usage`

A request's `messages` are the conversation as given; its `max_completion_tokens` (or
`max_tokens`) bounds the answer, within the configured max_tokens, and its `temperature`
replaces the configured one for the student's answer; a client's system message comes after
Apprentice's own and cannot change the mode or the rules. Each reply says how it was answered,
in headers (x-apprentice-route, -reason, -model, -turn) and in an extra `apprentice` field
(route, reason, model, turn_id, notes). Every request is logged as a turn with source `api`.
Consent cannot be asked over HTTP: in `ask` mode a query stays on this machine, with a note,
and `auto` applies only when `serve_api_auto` is set. Errors are OpenAI's error objects.

Standard library only (ThreadingHTTPServer): one query runs at a time anyway, so an
asynchronous framework would buy nothing but a dependency.

    curl -s http://127.0.0.1:8741/v1/chat/completions -d '{"model": "apprentice",
         "messages": [{"role": "user", "content": "What is the capital of France?"}]}'
"""

from __future__ import annotations

import hmac
import itertools
import json
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from assistant import privacy
from assistant.errors import ApprenticeError

MAX_BODY = 1_000_000  # bytes: far more than any chat a small student can read
DRAIN_MAX = 16_000_000  # bytes of a too-large body read and dropped, so the client gets its 413
ROUTED, LOCAL = "apprentice", "apprentice-local"
RETRY_AFTER_S = 5


class ApiError(Exception):
    """An error reply: status, OpenAI error type and code, and one sentence."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code=None, param=None):
        super().__init__(message)
        self.status, self.kind, self.code, self.param = status, kind, code, param

    def body(self) -> dict:
        return {"error": {"message": str(self), "type": self.kind, "param": self.param, "code": self.code}}


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, server):
        self.apprentice = server
        super().__init__(address, ApiHandler)


def text_of(content, index: int) -> str:
    """A message's text: a string, or OpenAI's list of parts (text parts only)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        if any(p.get("type") != "text" for p in content):
            raise ApiError(
                400, f"messages[{index}] has a part that is not text; only text is understood.", param="messages"
            )
        return "".join(str(p.get("text", "")) for p in content)
    raise ApiError(400, f"messages[{index}].content must be a string or a list of text parts.", param="messages")


def read_messages(body: dict) -> tuple[str, list[dict]]:
    """(the query, the conversation before it), the client's system text first as a system message."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(
            400, "The request needs `messages`: a list of {role, content}, ending with the user's.", param="messages"
        )
    system, turns = [], []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            raise ApiError(400, f"messages[{i}] must be an object with a role and content.", param="messages")
        role, text = message["role"], text_of(message.get("content"), i)
        if role in ("system", "developer"):
            system.append(text)
        elif role in ("user", "assistant"):
            turns.append({"role": role, "content": text})
        else:
            raise ApiError(400, f"messages[{i}] has role {role!r}; use system, user or assistant.", param="messages")
    if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"].strip():
        raise ApiError(400, "The last message must be the user's question, and not empty.", param="messages")
    history = turns[:-1]
    if system:  # after Apprentice's own system prompt, which the student puts first
        history = [{"role": "system", "content": "\n\n".join(system)}] + history
    return turns[-1]["content"], history


def read_decoding(body: dict, bound: int) -> tuple[dict, list[str]]:
    """({"max_tokens", "temperature"} the request asks for, notes): `max_completion_tokens` (or the
    older `max_tokens`) within the configured max_tokens, and `temperature` from 0 to 2."""
    decoding, notes = {}, []
    for name in ("max_completion_tokens", "max_tokens"):  # the newer name wins when both are given
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ApiError(400, f"`{name}` must be a whole number of at least 1.", param=name)
        if value > bound:
            notes.append(f"{name} {value} is more than this server's max_tokens; answered within {bound}.")
        decoding["max_tokens"] = min(value, bound)
        break
    temperature = body.get("temperature")
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
            raise ApiError(400, "`temperature` must be a number from 0 to 2.", param="temperature")
        decoding["temperature"] = float(temperature)
    return decoding, notes


def read_stream(body: dict) -> tuple[bool, bool]:
    """(whether to stream the answer, whether the last event carries usage): `stream` true or false,
    `stream_options` an object such as {"include_usage": true}."""
    stream, options = body.get("stream"), body.get("stream_options")
    if stream is not None and not isinstance(stream, bool):
        raise ApiError(400, "`stream` must be true or false.", param="stream")
    if options is not None and not isinstance(options, dict):
        raise ApiError(400, '`stream_options` must be an object, e.g. {"include_usage": true}.', param="stream_options")
    return bool(stream), bool((options or {}).get("include_usage"))


def header_text(value) -> str:
    """A header value that HTTP can carry (latin-1, one line)."""
    return " ".join(str(value).split()).encode("ascii", "backslashreplace").decode()


class ApiHandler(BaseHTTPRequestHandler):
    server_version = "Apprentice"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # the server's own log stays quiet; turns are in the store
        pass

    # -- replies --------------------------------------------------------------------------------

    def reply(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, header_text(value))
        self.end_headers()
        self.wfile.write(data)

    def fail(self, error: ApiError) -> None:
        headers = {"Retry-After": str(RETRY_AFTER_S)} if error.status == 503 else None
        if error.status in (413, 411):
            self.close_connection = True  # the body was not read: the connection cannot be reused
            headers = (headers or {}) | {"Connection": "close"}
        self.reply(error.status, error.body(), headers)

    # -- requests -------------------------------------------------------------------------------

    def do_GET(self):
        self._handle(self._get)

    def do_POST(self):
        self._handle(self._post)

    def _handle(self, route) -> None:
        try:
            self._authorize()
            route()
        except ApiError as exc:
            self.fail(exc)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client hung up; nothing left to tell it
        except ApprenticeError as exc:
            self.fail(ApiError(400 if exc.exit_code == 2 else 500, str(exc), "invalid_request_error"))
        except Exception as exc:  # a bug: the client gets a sentence, the traceback goes to the error log
            from assistant.errors import log_crash

            where = log_crash("serve http")
            self.fail(
                ApiError(500, f"Something went wrong ({type(exc).__name__}); details are in {where}.", "server_error")
            )

    def _authorize(self) -> None:
        token = self.server.apprentice.settings.serve_token
        if not token:
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise ApiError(401, "This server needs its token: send `Authorization: Bearer <serve_token>`.",
                           "invalid_request_error", code="invalid_api_key")  # fmt: skip

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/")

    def _get(self) -> None:
        if self._path() in ("/v1/models", "/models"):
            self.reply(200, {"object": "list", "data": models()})
        elif self._path() in ("", "/health", "/v1"):
            self.reply(200, {"status": "ok"})
        else:
            raise ApiError(404, f"There is nothing at {self._path()}; try /v1/models or /v1/chat/completions.",
                           code="not_found")  # fmt: skip

    def _body(self) -> dict:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise ApiError(411, "The request needs a Content-Length.")
        if int(length) > MAX_BODY:
            # read what was sent (up to a bound) before saying no: closing on unread bytes resets the
            # connection, and the client would see a broken pipe instead of this reply
            left = min(int(length), DRAIN_MAX)
            while left > 0 and (chunk := self.rfile.read(min(left, 65536))):
                left -= len(chunk)
            raise ApiError(413, f"The body is {int(length)} bytes; the limit is {MAX_BODY}.", code="body_too_large")
        raw = self.rfile.read(int(length))
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "The body is not valid JSON.", code="invalid_json") from None
        if not isinstance(body, dict):
            raise ApiError(400, "The body must be a JSON object.", code="invalid_json")
        return body

    def _post(self) -> None:
        if self._path() not in ("/v1/chat/completions", "/chat/completions"):
            self._body()  # read, so the connection stays usable
            raise ApiError(404, f"There is nothing at {self._path()}; try /v1/chat/completions.", code="not_found")
        body = self._body()
        name = body.get("model") or ROUTED
        if not isinstance(name, str):
            raise ApiError(400, "`model` must be a model's name; GET /v1/models lists them.", param="model")
        options, version, notes = self._route(name)
        query, history = read_messages(body)
        server = self.server.apprentice
        decoding, more = read_decoding(body, server.settings.max_tokens)
        stream, include_usage = read_stream(body)
        notes = notes + more
        from assistant.server.daemon import Busy

        try:
            with server.desk.turn():  # Busy is raised on entering, before any answer starts
                answer = server.answer(
                    query, None, history=history, version=version, source="api", **decoding, **options
                )
                answer.notes[:0] = notes
                if stream:
                    self._stream(answer, name, include_usage)
                else:
                    self._whole(answer, name)
        except Busy as exc:
            raise ApiError(503, f"The server is busy: {exc}", "server_error", code="overloaded") from None

    def _route(self, name: str):
        """(Assistant.answer options, a pinned student version or None, notes) for the model asked for."""
        from assistant.models import registry

        settings = self.server.apprentice.settings
        if name == LOCAL:
            return {"force": "local", "mode": "private"}, None, []
        if name == ROUTED:
            mode = privacy.default_mode(settings)
            if mode == "auto" and not settings.serve_api_auto:
                note = "Auto mode reaches the API only with serve_api_auto = true in config.toml; asked as in ask mode."
                return {"mode": "ask", "consent": None}, None, [note]
            return {"mode": mode, "consent": None}, None, []  # ask mode: no one to ask, so it stays here
        try:
            return {"force": "local", "mode": "private"}, registry.get(name), []
        except ApprenticeError:
            raise ApiError(404, f"There is no model {name!r}; GET /v1/models lists them.", code="model_not_found",
                           param="model") from None  # fmt: skip

    # -- answering ------------------------------------------------------------------------------

    def _whole(self, answer, name: str) -> None:
        for _ in answer:
            pass
        result = answer.result()
        reply = completion(answer, name, result)
        reply["choices"] = [{"index": 0, "message": {"role": "assistant", "content": result["answer"]},
                             "finish_reason": finish_reason(answer)}]  # fmt: skip
        reply["usage"] = usage(answer)
        self.reply(200, reply, headers_of(result))

    def _stream(self, answer, name: str, include_usage: bool) -> None:
        chunks = iter(answer)
        try:
            # the first chunk settles the route (a cascade decides before it shows anything),
            # so the headers tell the truth
            first = next(chunks, None)
            result = answer.result()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            for header, value in headers_of(result).items():
                self.send_header(header, header_text(value))
            self.end_headers()
            self.close_connection = True
            base = completion(answer, name, result, chunk=True)
            self._event(
                base | {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
            )
            try:
                for text in itertools.chain([] if first is None else [first], chunks):
                    delta = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
                    self._event({k: v for k, v in base.items() if k != "apprentice"} | delta)  # said first and last
            except ApprenticeError as exc:  # the status line is sent: the error goes in the stream, as OpenAI's does
                self._event(ApiError(500, str(exc), "server_error").body())
                return
            result = answer.result()
            last = completion(answer, name, result, chunk=True)
            last["choices"] = [{"index": 0, "delta": {}, "finish_reason": finish_reason(answer)}]
            if include_usage:
                self._event(last)
                self._event(completion(answer, name, result, chunk=True) | {"choices": [], "usage": usage(answer)})
            else:
                self._event(last | {"usage": usage(answer)})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        finally:
            chunks.close()  # a client that hung up: the turn is kept as interrupted

    def _event(self, obj: dict) -> None:
        self.wfile.write(b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n")
        self.wfile.flush()


def models() -> list[dict]:
    from assistant.models import registry

    now = int(time.time())
    listed = [
        {"id": ROUTED, "object": "model", "created": now, "owned_by": "apprentice",
         "description": "the router: the student, or the teacher where the mode allows"},
        {"id": LOCAL, "object": "model", "created": now, "owned_by": "apprentice",
         "description": "the active student; never leaves this machine"},
    ]  # fmt: skip
    active = registry.active_name()
    for version in registry.versions():
        description = "a student version" + (" (active)" if version.name == active else "")
        listed.append({"id": version.name, "object": "model", "created": now, "owned_by": "apprentice",
                       "description": description})  # fmt: skip
    return listed


def completion(answer, name: str, result: dict, chunk: bool = False) -> dict:
    turn = result.get("turn_id")
    return {
        "id": f"chatcmpl-{turn}" if turn is not None else f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion.chunk" if chunk else "chat.completion",
        "created": int(time.time()),
        "model": name,
        "apprentice": {k: result.get(k) for k in ("route", "reason", "model", "turn_id", "notes", "action")},
    }


def finish_reason(answer) -> str:
    response = answer.response
    return "length" if response is not None and getattr(response, "finish_reason", None) == "length" else "stop"


def usage(answer) -> dict:
    used = answer.response.usage if answer.response is not None else None
    prompt = (used.prompt_tokens or 0) if used else 0
    tokens = used.tokens if used else 0
    return {"prompt_tokens": prompt, "completion_tokens": tokens, "total_tokens": prompt + tokens}


def headers_of(result: dict) -> dict:
    return {
        "x-apprentice-route": result.get("route"),
        "x-apprentice-reason": result.get("reason"),
        "x-apprentice-model": result.get("model"),
        "x-apprentice-turn": result.get("turn_id"),
    }
