"""A local fake of Google's Gemini REST API, for tests and benchmarks.

It answers `models/{model}:generateContent` and
`models/{model}:streamGenerateContent?alt=sse` under /v1/ and /v1beta/ the way
the google-genai SDK calls them, from a table of known queries, and can inject
the faults a real teacher shows: 429 with a retry delay, 500, 503, a slow first
byte, a stream cut midway, a garbled body. It binds 127.0.0.1 only.

Run it and point the SDK (or Apprentice) at it:

    apprentice dev fake-gemini --port 8765 --answers assets/bench/train.jsonl
    python -m assistant.dev.fake_gemini --port 0 --fault 429:1:0.2s
    GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:8765 GEMINI_API_KEY=any apprentice ask ...

or start it in-process, on a free port, in a test:

    with FakeGemini(answers={"What is 2+2?": "4"}, faults=["503:1"]) as fake:
        client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=fake.url))

Answers: a JSONL file whose lines are {"query", "answer"} or {"query", "reference"}
(benchmark files: the reference is the answer), optionally with "rationale". The
last user message is matched case-insensitively, ignoring trailing punctuation
and runs of whitespace; anything else gets DEFAULT_ANSWER. When the last user
message or the system instruction mentions "rationale" and the line has one, the
answer is "Rationale: <rationale>\\nAnswer: <answer>".

A line with a call, {"query", "call": {"name", "arguments"}} (the benchmark's action
format, which may also carry "family" and "reference"), answers with a `functionCall`
part the way Gemini streams one: a last chunk whose part is {"functionCall": {"name",
"args"}, "thoughtSignature"}, with finishReason STOP and usageMetadata. An "answer" on
the line streams first as text, as Gemini sometimes says a few words before a call; a
"reference" is what executing the call shows, so it is never sent with the call. A list
of calls is sent as parallel calls, one part each, as Gemini does. Like the real model,
the fake calls only tools the request declares: otherwise the line's text answer (or
DEFAULT_ANSWER) comes instead. As the real API does, a request whose model turn with a
functionCall does not follow a user turn gets a 400.

Faults: `--fault KIND[:COUNT[:DELAY]]`, repeatable, KIND one of 429, 500, 503,
slow, cut, garbage, badcall. COUNT limits the fault to that many requests (empty: every
request). DELAY ("0.2s", "200ms", "3") is the retryDelay a 429 advertises
(default 1s) or how late a slow reply starts (default 3s). Faults are used in
the order given: each model request takes the first fault with requests left, so
`--fault 429:1 --fault 503:1` fails twice, differently, and then answers.
`badcall` is Gemini failing to form a call: a 200 reply with no content and
finishReason MALFORMED_FUNCTION_CALL.

Token counts in usageMetadata are whitespace-separated words: the prompt's are
those of every text part sent (contents and system instruction) and of each
functionCall's JSON; a reply's, those of its text and of its call's JSON.

Batches (the Batch API, as `client.batches` and `client.files` call it): `POST
models/{model}:batchGenerateContent` creates a job from inlined requests
(`inputConfig.requests.requests[]`, each {"request", "metadata"}) or from an uploaded JSONL
file (`inputConfig.fileName`, lines {"key", "request"}); `GET batches/{id}`, `GET batches`
(pages), `POST batches/{id}:cancel` and `DELETE batches/{id}` do what the real API does.
Uploads use Google's resumable protocol (`POST upload/v1beta/files`, then the upload URL it
hands out), and a job made from a file writes its responses to a file that `GET
files/{id}:download?alt=media` serves, one {"key", "response"} line per request. A job is
created PENDING; each `get` moves it on: RUNNING until it has been polled `--batch-polls` times
(default 2), then SUCCEEDED with every request answered from the table as generateContent
would answer it (tools declared or not). `--batch-fault failed[:COUNT]` or `expired[:COUNT]`
makes the next COUNT jobs (default: every job) end FAILED or EXPIRED instead. In-process,
`fake.batches` holds the jobs by name and `fake.batch_polls` may be changed while it runs.
The model-request faults above do not touch the batch endpoints.

`--record FILE` appends one JSON line per request received: {"path", "model",
"body", "tools", "time"}, where "tools" names the functions the request declared
(tools[].functionDeclarations[].name); never a header, never the query string, so
never the key. In-process, `fake.requests` holds the same records (without "time"),
whether or not there is a file, and `fake.declared` the declared names per request
(the command, which may run for days, keeps them only in the file).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from os import PathLike
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_ANSWER = "I am a fake Gemini and have no answer for that."
WORDS_PER_CHUNK = 3
FAULT_KINDS = ("429", "500", "503", "slow", "cut", "garbage", "badcall")
DEFAULT_DELAY = {"429": 1.0, "slow": 3.0}  # seconds
GARBAGE = b'{"candidates": [{"content": <html>Service glitch</html>'  # what a broken proxy might send

# The two prefixes a custom base URL may be called with, and the two methods.
MODEL_PATH = re.compile(r"^/(v1|v1beta)/models/([^/:]+):(generateContent|streamGenerateContent)$")
BATCH_CREATE = re.compile(r"^/(v1|v1beta)/models/([^/:]+):batchGenerateContent$")
BATCH_PATH = re.compile(r"^/(v1|v1beta)/batches(?:/([^/:]+))?(?::(cancel))?$")
UPLOAD_PATH = re.compile(r"^/upload/(v1|v1beta)/files$")
FILE_PATH = re.compile(r"^/(v1|v1beta)/files/([^/:]+)(?::(download))?$")
BATCH_FAULT_KINDS = ("failed", "expired")
BATCH_END = {"failed": "BATCH_STATE_FAILED", "expired": "BATCH_STATE_EXPIRED"}
BATCH_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
TRAILING = re.compile(r"[\s.,;:!?]+$")

Answers = str | PathLike | Mapping[str, str] | Iterable[Mapping[str, Any]] | None


class AnswersError(ValueError):
    """An answers table that cannot be used; the message is one sentence."""


@dataclass
class Fault:
    kind: str
    count: int | None = None  # requests left to spoil; None: every request
    delay: float = 0.0  # 429: the advertised retryDelay; slow: how late the first byte is


def parse_fault(spec: str) -> Fault:
    """'429', '503:2', '429:1:0.2s', 'slow::500ms' -> Fault."""
    parts = spec.split(":")
    kind = parts[0]
    if kind not in FAULT_KINDS or len(parts) > 3:
        raise ValueError(f"Unknown fault {spec!r}: use KIND[:COUNT[:DELAY]] with KIND one of {', '.join(FAULT_KINDS)}.")
    count = None
    if len(parts) > 1 and parts[1]:
        if not parts[1].isdigit() or int(parts[1]) < 1:
            raise ValueError(f"Fault {spec!r}: COUNT must be a whole number of requests, 1 or more.")
        count = int(parts[1])
    delay = DEFAULT_DELAY.get(kind, 0.0)
    if len(parts) > 2:
        delay = _seconds(parts[2], spec)
    return Fault(kind, count, delay)


def parse_batch_fault(spec: str) -> Fault:
    """'failed', 'expired:1' -> Fault: how the next COUNT batch jobs end."""
    kind, _, count = spec.partition(":")
    if kind not in BATCH_FAULT_KINDS or (count and (not count.isdigit() or int(count) < 1)):
        raise ValueError(f"Unknown batch fault {spec!r}: use failed[:COUNT] or expired[:COUNT], COUNT 1 or more.")
    return Fault(kind, int(count) if count else None)


def _seconds(text: str, spec: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)(ms|s)?", text.strip())
    if not match:
        raise ValueError(f"Fault {spec!r}: DELAY must look like 0.2s, 200ms or 3.")
    value = float(match[1])
    return value / 1000 if match[2] == "ms" else value


def normalize(text: str) -> str:
    """The form queries are matched in: lower case, single spaces, no trailing punctuation."""
    return TRAILING.sub("", " ".join(text.split()).lower())


@dataclass(frozen=True)
class Reply:
    """What the fake says to one query: text, a rationale it may give first, a call it makes when it can."""

    answer: str | None = None  # text; with a call, the words said before it
    rationale: str | None = None
    calls: tuple[dict, ...] = ()  # {"name", "arguments"}; more than one are parallel calls
    reference: str | None = None  # a benchmark's expected text: the answer when no call is made

    def text(self, default: str) -> str:
        """The text answer when no call is made."""
        return self.answer if self.answer is not None else self.reference if self.reference is not None else default


def load_answers(source: Answers) -> dict[str, Reply]:
    """A JSONL path, a {query: answer} mapping, or rows like the JSONL lines; {normalized query: Reply}."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return {normalize(q): Reply(answer=a) for q, a in source.items()}
    if isinstance(source, (str, PathLike)):
        return _load_answers_file(Path(source))
    table = {}
    for n, row in enumerate(source, 1):
        query, reply = _row(row, f"Answer row {n}")
        table[normalize(query)] = reply
    return table


def _load_answers_file(path: Path) -> dict[str, Reply]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise AnswersError(f"Cannot read the answers file {path}: {reason}.") from None
    table = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise AnswersError(f"Answers file {path}, line {n} is not valid JSON ({e.msg}).") from None
        query, reply = _row(row, f"Answers file {path}, line {n}")
        table[normalize(query)] = reply
    return table


def _row(row: Any, where: str) -> tuple[str, Reply]:
    if not isinstance(row, Mapping) or not isinstance(row.get("query"), str):
        raise AnswersError(f'{where} needs a "query" string and an "answer", "reference" or "call".')
    texts = {k: row.get(k) for k in ("answer", "reference", "rationale")}
    for key, value in texts.items():
        if not isinstance(value, (str, type(None))):
            raise AnswersError(f'{where}: "{key}" must be a string.')
    calls = row.get("call")
    calls = [] if calls is None else calls if isinstance(calls, list) and calls else [calls]
    for n, call in enumerate(calls):
        arguments = call.get("arguments", {}) if isinstance(call, Mapping) else None
        if not isinstance(call, Mapping) or not isinstance(call.get("name"), str) or not isinstance(arguments, Mapping):
            raise AnswersError(f'{where}: "call" must be {{"name": string, "arguments": object}}, or a list of them.')
        calls[n] = {"name": call["name"], "arguments": dict(arguments)}
    if not calls and texts["answer"] is None and texts["reference"] is None:
        raise AnswersError(f'{where} needs a "query" string and an "answer", "reference" or "call".')
    return row["query"], Reply(texts["answer"], texts["rationale"], tuple(calls), texts["reference"])


def _words(text: str) -> int:
    return len(text.split())


def _parts(content: Any) -> list[dict]:
    parts = content.get("parts") if isinstance(content, dict) else None
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def _texts(content: Any) -> list[str]:
    """The text parts of one Content ({"role", "parts": [{"text"}]}); other parts are ignored."""
    return [p["text"] for p in _parts(content) if isinstance(p.get("text"), str)]


def _field(obj: dict, camel: str) -> Any:
    """A field by its JSON name or its proto name, as Google's parser accepts both (the SDK sends
    `functionDeclarations` but, inside a declaration, `parameters_json_schema`)."""
    if camel in obj:
        return obj[camel]
    return obj.get(re.sub(r"[A-Z]", lambda m: "_" + m[0].lower(), camel))


def _calls(content: Any) -> list[dict]:
    """The functionCall parts of one Content."""
    return [call for p in _parts(content) if isinstance(call := _field(p, "functionCall"), dict)]


def declared_tools(request: Any) -> list[str]:
    """The function names a GenerateContentRequest declares (tools[].functionDeclarations[].name)."""
    tools = request.get("tools") if isinstance(request, dict) else None
    names = []
    for tool in tools if isinstance(tools, list) else ():
        declarations = _field(tool, "functionDeclarations") if isinstance(tool, dict) else None
        for declaration in declarations if isinstance(declarations, list) else ():
            if isinstance(declaration, dict) and isinstance(declaration.get("name"), str):
                names.append(declaration["name"])
    return names


def _misplaced_call(contents: list) -> bool:
    """Whether a model turn with a functionCall follows anything but a user turn, which Gemini refuses."""
    for i, content in enumerate(contents):
        if isinstance(content, dict) and content.get("role") == "model" and _calls(content):
            before = contents[i - 1] if i else None
            if not isinstance(before, dict) or before.get("role", "user") != "user":
                return True
    return False


def _call_words(call: dict) -> int:
    return _words(json.dumps(call))


def _duration(seconds: float) -> str:
    """Protobuf Duration in JSON, as Google writes retryDelay: '1s', '0.200s'."""
    return f"{int(seconds)}s" if seconds == int(seconds) else f"{seconds:.3f}s"


def error_body(code: int, status: str, message: str, details: list | None = None) -> dict:
    """Google's error shape, which google.genai.errors.APIError reads."""
    return {"error": {"code": code, "message": message, "status": status, "details": details or []}}


def _quota_error(model: str, delay: float) -> dict:
    return error_body(
        429,
        "RESOURCE_EXHAUSTED",
        f"You exceeded your current quota, please check your plan and billing details. Please retry in {delay:g}s.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        "quotaDimensions": {"model": model, "location": "global"},
                        "quotaValue": "10",
                    }
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": _duration(delay)},
        ],
    )


SERVER_ERRORS = {
    "500": error_body(
        500,
        "INTERNAL",
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    ),
    "503": error_body(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
}


class FakeGemini:
    """The fake server, in-process: start() -> base URL, stop(); or `with FakeGemini(...) as fake: fake.url`."""

    def __init__(
        self,
        answers: Answers = None,
        faults: Iterable[str | Fault] = (),
        record: str | PathLike | None = None,
        *,
        key: str | None = None,
        port: int = 0,
        default_answer: str = DEFAULT_ANSWER,
        log: bool = False,
        keep_requests: bool = True,
        batch_polls: int = 2,
        batch_faults: Iterable[str | Fault] = (),
    ):
        self.answers = load_answers(answers)
        # Copies: counts go down as requests arrive, and a caller's Fault stays as given.
        self.faults = [replace(f) if isinstance(f, Fault) else parse_fault(f) for f in faults]
        self.record = Path(record) if record is not None else None
        self.key = key  # None: any non-empty key is accepted
        self.port = port
        self.default_answer = default_answer
        self.log = log
        self.url: str | None = None
        self.keep_requests = keep_requests
        self.requests: list[dict] = []  # every request received: {"path", "model", "body", "tools"}
        self._lock = threading.Lock()  # guards fault counts, the requests and the record file
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # The Batch API: jobs by name, files by name ({"meta", "data"}), uploads under way by id.
        self.batch_polls = batch_polls  # gets a job answers RUNNING to before it ends
        self.batch_faults = [replace(f) if isinstance(f, Fault) else parse_batch_fault(f) for f in batch_faults]
        self.batches: dict[str, Batch] = {}
        self.files: dict[str, dict] = {}
        self._uploads: dict[str, dict] = {}

    def start(self) -> str:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-gemini", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None

    def __enter__(self) -> FakeGemini:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def take_fault(self) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.count is None:
                    return fault
                if fault.count > 0:
                    fault.count -= 1
                    return fault
        return None

    # -- the Batch API ------------------------------------------------------------------

    def create_batch(self, model: str, body: Any) -> tuple[int, dict]:
        """A new job from a BatchGenerateContentRequest ({"batch": {"displayName", "inputConfig"}})."""
        batch = body.get("batch") if isinstance(body, dict) else None
        source = batch.get("inputConfig") if isinstance(batch, dict) else None
        if not isinstance(source, dict):
            return 400, error_body(400, "INVALID_ARGUMENT", "* batch.input_config: input_config is not specified")
        inlined = source.get("requests")
        file_name = _field(source, "fileName")
        if (inlined is None) == (file_name is None):
            return 400, error_body(
                400, "INVALID_ARGUMENT", "* batch.input_config: exactly one of requests or file_name must be set"
            )
        if inlined is not None:
            rows = inlined.get("requests") if isinstance(inlined, dict) else None
            if not isinstance(rows, list) or not rows:
                return 400, error_body(400, "INVALID_ARGUMENT", "* batch.input_config.requests: requests is empty")
            items = [(r.get("request"), r.get("metadata")) if isinstance(r, dict) else (None, None) for r in rows]
        else:
            with self._lock:
                found = self.files.get(file_name)
            if found is None:
                return 404, error_body(404, "NOT_FOUND", f"File {file_name} not found.")
            items = []
            for line in found["data"].decode("utf-8", "replace").splitlines():
                try:
                    row = json.loads(line) if line.strip() else None
                except json.JSONDecodeError:
                    row = None
                if row is not None or line.strip():
                    items.append((row.get("request"), row.get("key")) if isinstance(row, dict) else (None, None))
        with self._lock:
            fault = None
            for f in self.batch_faults:
                if f.count is None or f.count > 0:
                    fault = f
                    if f.count is not None:
                        f.count -= 1
                    break
            name = f"batches/{uuid.uuid4().hex[:20]}"
            job = Batch(
                name,
                f"models/{model}",
                str(batch.get("displayName") or ""),
                items,
                file_name is not None,
                fault.kind if fault else None,
            )
            self.batches[name] = job
            return 200, job.operation()

    def poll_batch(self, name: str) -> Batch | None:
        """The job, moved on by one poll: PENDING → RUNNING → its end once polled `batch_polls` times."""
        with self._lock:
            job = self.batches.get(name)
            if job is None or job.done:
                return job
            job.polls += 1
            if job.polls < max(1, self.batch_polls):
                job.state, job.updated = "BATCH_STATE_RUNNING", _now()
                return job
        # The answers are made outside the lock: reply() is pure, and record writes take the lock.
        results = [self._batch_result(request, job.model) for request, _ in job.items] if job.fault is None else []
        with self._lock:
            if job.done:  # another poll ended it meanwhile (or it was cancelled)
                return job
            job.end(BATCH_END.get(job.fault, "BATCH_STATE_SUCCEEDED"), results)
            if job.from_file and job.fault is None:
                lines = [
                    json.dumps({"key": key, **result}, ensure_ascii=False)
                    for (_, key), result in zip(job.items, results)
                ]
                file_name = f"files/batch-{job.name.split('/')[-1]}"
                self.files[file_name] = {
                    "meta": _file_meta(
                        file_name, "application/jsonl", len(data := "\n".join(lines).encode()), "GENERATED"
                    ),
                    "data": data,
                }
                job.responses_file = file_name
            return job

    def _batch_result(self, request: Any, model: str) -> dict:
        """One request's line of the output: {"response": GenerateContentResponse} or {"error": Status}."""
        contents = request.get("contents") if isinstance(request, dict) else None
        if not isinstance(contents, list) or not contents:
            return {"error": {"code": 3, "message": "* GenerateContentRequest.contents: contents is not specified"}}
        if _misplaced_call(contents):
            return {
                "error": {
                    "code": 3,
                    "message": "Please ensure that function call turn comes immediately after a user turn.",
                }
            }
        answer, calls, prompt_words = self.reply(request)
        answer_words = _words(answer) + sum(_call_words(call) for call in calls)
        usage = {
            "promptTokenCount": prompt_words,
            "candidatesTokenCount": answer_words,
            "totalTokenCount": prompt_words + answer_words,
        }
        parts = ([{"text": answer}] if answer or not calls else []) + _call_parts(calls)
        return {"response": _response(model.removeprefix("models/"), uuid.uuid4().hex[:22], parts, usage)}

    def cancel_batch(self, name: str) -> bool:
        with self._lock:
            job = self.batches.get(name)
            if job is None:
                return False
            if not job.done:
                job.end("BATCH_STATE_CANCELLED", [])
            return True

    def start_upload(self, meta: Any) -> str:
        upload_id = uuid.uuid4().hex
        with self._lock:
            self._uploads[upload_id] = {"meta": meta if isinstance(meta, dict) else {}, "data": bytearray()}
        return upload_id

    def upload_chunk(self, upload_id: str, offset: int, data: bytes, finalize: bool) -> dict | None:
        """Add a chunk to an upload; the File once finalized, {} while more is to come, None if unknown."""
        with self._lock:
            upload = self._uploads.get(upload_id)
            if upload is None or offset != len(upload["data"]):
                return None
            upload["data"] += data
            if not finalize:
                return {}
            del self._uploads[upload_id]
            file = upload["meta"].get("file") or {}
            name = file.get("name") or f"files/{uuid.uuid4().hex[:12]}"
            mime = _field(file, "mimeType") or "application/octet-stream"
            meta = _file_meta(name, mime, len(upload["data"]), "UPLOADED", file.get("displayName"))
            self.files[name] = {"meta": meta, "data": bytes(upload["data"])}
            return meta

    @property
    def declared(self) -> list[list[str]]:
        """The function names each request declared, in the order requests came."""
        with self._lock:
            return [r["tools"] for r in self.requests]

    def write_record(self, path: str, model: str | None, body: Any) -> None:
        line = {"path": path, "model": model, "body": body, "tools": declared_tools(body)}
        with self._lock:
            if self.keep_requests:
                self.requests.append(line)
            if self.record is None:
                return
            line = {**line, "time": datetime.now(UTC).isoformat(timespec="milliseconds")}
            with self.record.open("a", encoding="utf-8") as f:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")

    def reply(self, request: dict) -> tuple[str, list[dict], int]:
        """The answer text and calls for a GenerateContentRequest, and its prompt size in words."""
        contents = request["contents"]
        user = [c for c in contents if isinstance(c, dict) and c.get("role", "user") == "user"]
        query = "".join(_texts(user[-1])).strip() if user else ""
        system = " ".join(_texts(request.get("systemInstruction")))
        prompt_words = (
            sum(_words(t) for c in contents for t in _texts(c))
            + sum(_call_words(call) for c in contents for call in _calls(c))
            + _words(system)
        )
        found = self.answers.get(normalize(query), Reply())
        declared = declared_tools(request)
        if found.calls and all(call["name"] in declared for call in found.calls):
            return found.answer or "", list(found.calls), prompt_words
        answer = found.text(self.default_answer)
        if found.rationale and "rationale" in f"{query}\n{system}".lower():
            answer = f"Rationale: {found.rationale}\nAnswer: {answer}"
        return answer, [], prompt_words


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _file_meta(name: str, mime: str, size: int, source: str, display_name: str | None = None) -> dict:
    """A File resource as the Files API describes one; only generated files can be downloaded."""
    meta = {
        "name": name,
        "mimeType": mime,
        "sizeBytes": str(size),
        "createTime": _now(),
        "updateTime": _now(),
        "uri": f"https://generativelanguage.googleapis.com/v1beta/{name}",
        "state": "ACTIVE",
        "source": source,
    }
    if display_name:
        meta["displayName"] = display_name
    if source == "GENERATED":
        meta["downloadUri"] = f"https://generativelanguage.googleapis.com/download/v1beta/{name}:download?alt=media"
    return meta


@dataclass
class Batch:
    """One job of the Batch API, as the fake keeps it."""

    name: str  # batches/<id>
    model: str  # models/<model>
    display_name: str
    items: list[tuple[Any, Any]]  # (request, metadata) inlined, or (request, key) from a file
    from_file: bool
    fault: str | None  # failed | expired: how it ends instead of succeeding
    state: str = "BATCH_STATE_PENDING"
    polls: int = 0
    created: str = field(default_factory=lambda: _now())
    updated: str = field(default_factory=lambda: _now())
    ended: str | None = None
    results: list[dict] = field(default_factory=list)
    responses_file: str | None = None

    @property
    def done(self) -> bool:
        return self.ended is not None

    def end(self, state: str, results: list[dict]) -> None:
        self.state, self.results, self.ended = state, results, _now()
        self.updated = self.ended

    def operation(self) -> dict:
        """The job as the API returns it: a long-running Operation whose metadata is the GenerateContentBatch."""
        ok = sum(1 for r in self.results if "response" in r)
        metadata: dict[str, Any] = {
            "@type": BATCH_TYPE,
            "model": self.model,
            "displayName": self.display_name,
            "createTime": self.created,
            "updateTime": self.updated,
            "batchStats": {
                "requestCount": str(len(self.items)),
                "successfulRequestCount": str(ok),
                "failedRequestCount": str(len(self.results) - ok),
                "pendingRequestCount": str(0 if self.done else len(self.items)),
            },
            "state": self.state,
            "name": self.name,
        }
        if self.ended:
            metadata["endTime"] = self.ended
        if self.state == "BATCH_STATE_SUCCEEDED":
            if self.from_file:
                metadata["output"] = {"responsesFile": self.responses_file}
            else:
                responses = [
                    {**r, "metadata": meta} if meta is not None else r for r, (_, meta) in zip(self.results, self.items)
                ]
                metadata["output"] = {"inlinedResponses": {"inlinedResponses": responses}}
        operation: dict[str, Any] = {"name": self.name, "metadata": metadata, "done": self.done}
        if self.state == "BATCH_STATE_FAILED":
            operation["error"] = {"code": 13, "message": "The batch failed: an internal error has occurred."}
        elif self.state == "BATCH_STATE_EXPIRED":
            operation["error"] = {"code": 4, "message": "The batch expired: it did not finish within 48 hours."}
        elif self.done:
            operation["response"] = {**metadata, "@type": BATCH_TYPE}
        return operation


def _call_parts(calls: list[dict]) -> list[dict]:
    """functionCall parts as Gemini sends them; the first carries the thought signature thinking models attach."""
    parts: list[dict] = [{"functionCall": {"name": c["name"], "args": c["arguments"]}} for c in calls]
    if parts:
        parts[0]["thoughtSignature"] = base64.b64encode(uuid.uuid4().bytes * 2).decode()
    return parts


def _response(model: str, response_id: str, parts: list[dict], usage: dict | None = None) -> dict:
    """One GenerateContentResponse; the one carrying usage is the last and says STOP."""
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    body: dict[str, Any] = {"candidates": [candidate]}
    if usage is not None:
        candidate["finishReason"] = "STOP"
        body["usageMetadata"] = usage
    body["modelVersion"] = model
    body["responseId"] = response_id
    return body


def _malformed_call(model: str, prompt_words: int) -> dict:
    """Gemini's reply when it fails to form a function call: no content, a finish reason saying so."""
    candidate = {
        "finishReason": "MALFORMED_FUNCTION_CALL",
        "finishMessage": "Malformed function call: timer(minutes=ten)",
        "index": 0,
    }
    usage = {"promptTokenCount": prompt_words, "totalTokenCount": prompt_words}
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model}


def _chunks(answer: str) -> list[str]:
    """The answer in pieces of WORDS_PER_CHUNK words that join back to it exactly."""
    words = re.split(r"(?<=\s)(?=\S)", answer)
    return ["".join(words[i : i + WORDS_PER_CHUNK]) for i in range(0, len(words), WORDS_PER_CHUNK)]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that hangs up (after a cut or garbled reply, or a timeout) is part of the
        # faults this server exists to show, not a server error worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1: keep-alive like Google, and chunked streams, so a client can tell a cut stream from a finished one.
    protocol_version = "HTTP/1.1"
    server_version = "FakeGemini/1"

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Not the request line: its query string may carry `?key=`.
        self.log_message("%s %s %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.fake.log:  # type: ignore[attr-defined]
            super().log_message(format, *args)

    def _serve(self) -> None:
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout during `slow`, say)

    def _handle(self) -> None:
        fake: FakeGemini = self.server.fake  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        route = MODEL_PATH.match(url.path) if self.command == "POST" else None
        model = route[2] if route else None
        try:
            body = json.loads(raw) if raw else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = raw.decode("utf-8", "replace")
            bad_json = True
        else:
            bad_json = False
        batch_route = BATCH_CREATE.match(url.path) if self.command == "POST" else None
        fake.write_record(url.path, model or (batch_route[2] if batch_route else None), body)

        if route is None:
            # An upload URL is the session's credential, as Google's are: its chunks carry no key.
            session = parse_qs(url.query).get("upload_id", [""])[0] if UPLOAD_PATH.match(url.path) else ""
            if not (session and session in fake._uploads) and self._key_refused(fake, url):
                return
            if batch_route or BATCH_PATH.match(url.path) or UPLOAD_PATH.match(url.path) or FILE_PATH.match(url.path):
                return self._batch_api(fake, url, batch_route, raw, body, bad_json)
            return self._send_json(
                404, error_body(404, "NOT_FOUND", f"The requested URL {url.path} was not found on this server.")
            )
        if self._key_refused(fake, url):
            return
        if bad_json or not isinstance(body, dict):
            return self._send_json(
                400,
                error_body(400, "INVALID_ARGUMENT", "Invalid JSON payload received: the body must be a JSON object."),
            )
        self._answer(fake, url, route, body)

    def _key_refused(self, fake: FakeGemini, url) -> bool:
        """Refuse a request without a key, or with a wrong one when the fake has a key; True if refused."""
        # The SDK sends the header; `?key=` is what curl users of the real API type.
        key = self.headers.get("x-goog-api-key") or parse_qs(url.query).get("key", [""])[0]
        if not key:
            self._send_json(
                403,
                error_body(
                    403,
                    "PERMISSION_DENIED",
                    "Method doesn't allow unregistered callers (callers without established identity). "
                    "Please use API Key or other form of API consumer identity to call this API.",
                    [
                        {
                            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "CREDENTIALS_MISSING",
                            "domain": "googleapis.com",
                        }
                    ],
                ),
            )
            return True
        if fake.key is not None and key != fake.key:
            self._send_json(
                400,
                error_body(
                    400,
                    "INVALID_ARGUMENT",
                    "API key not valid. Please pass a valid API key.",
                    [
                        {
                            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "API_KEY_INVALID",
                            "domain": "googleapis.com",
                            "metadata": {"service": "generativelanguage.googleapis.com"},
                        }
                    ],
                ),
            )
            return True
        return False

    def _answer(self, fake: FakeGemini, url, route: re.Match, body: dict) -> None:
        """generateContent and streamGenerateContent, past the key check."""
        model = route[2]
        if not isinstance(body.get("contents"), list) or not body["contents"]:
            return self._send_json(
                400, error_body(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified")
            )
        if _misplaced_call(body["contents"]):
            return self._send_json(
                400,
                error_body(
                    400,
                    "INVALID_ARGUMENT",
                    "Please ensure that function call turn comes immediately after a user turn or after a function "
                    "response turn.",
                ),
            )

        fault = fake.take_fault()
        kind = fault.kind if fault else None
        if kind == "429":
            return self._send_json(429, _quota_error(model, fault.delay))
        if kind in SERVER_ERRORS:
            return self._send_json(int(kind), SERVER_ERRORS[kind])
        if kind == "slow":
            time.sleep(fault.delay)  # before the status line: the first byte is late

        answer, calls, prompt_words = fake.reply(body)
        if kind == "badcall":
            return self._send_reply(route[3], url.query, [_malformed_call(model, prompt_words)])
        answer_words = _words(answer) + sum(_call_words(call) for call in calls)
        usage = {
            "promptTokenCount": prompt_words,
            "candidatesTokenCount": answer_words,
            "totalTokenCount": prompt_words + answer_words,
        }
        response_id = uuid.uuid4().hex[:22]
        if route[3] == "generateContent":
            parts = ([{"text": answer}] if answer or not calls else []) + _call_parts(calls)
            return self._send_json(200, _response(model, response_id, parts, usage), kind)

        # Text in pieces of a few words; a call comes whole in the last chunk, as Gemini streams it.
        pieces = [[{"text": p}] for p in _chunks(answer)] if answer or not calls else []
        if calls:
            pieces.append(_call_parts(calls))
        events = [_response(model, response_id, p) for p in pieces[:-1]]
        events.append(_response(model, response_id, pieces[-1], usage))
        self._send_reply(route[3], url.query, events, kind)

    def _batch_api(self, fake: FakeGemini, url, create: re.Match | None, raw: bytes, body: Any, bad_json: bool) -> None:
        """The Batch API's jobs and the Files API's uploads and downloads, past the key check."""
        not_found = error_body(404, "NOT_FOUND", f"The requested URL {url.path} was not found on this server.")
        if create:
            if bad_json or not isinstance(body, dict):
                return self._send_json(400, error_body(400, "INVALID_ARGUMENT", "Invalid JSON payload received."))
            return self._send_json(*fake.create_batch(create[2], body))
        if UPLOAD_PATH.match(url.path) and self.command == "POST":
            return self._upload(fake, url, raw, body)
        if file := FILE_PATH.match(url.path):
            found = fake.files.get(f"files/{file[2]}")
            if found is None or self.command != "GET":
                return self._send_json(404, error_body(404, "NOT_FOUND", f"File files/{file[2]} not found."))
            if not file[3]:
                return self._send_json(200, found["meta"])
            if found["meta"]["source"] != "GENERATED":
                return self._send_json(
                    400, error_body(400, "INVALID_ARGUMENT", "Only generated files can be downloaded.")
                )
            return self._send_bytes(found["data"], found["meta"]["mimeType"])
        batch = BATCH_PATH.match(url.path)
        name = f"batches/{batch[2]}" if batch[2] else None
        if name is None:
            if self.command != "GET" or batch[3]:
                return self._send_json(404, not_found)
            return self._send_json(200, self._batch_page(fake, url))
        unknown = error_body(404, "NOT_FOUND", f"Batch {name} not found.")
        if batch[3] == "cancel" and self.command == "POST":
            return self._send_json(200, {}) if fake.cancel_batch(name) else self._send_json(404, unknown)
        if self.command == "DELETE" and not batch[3]:
            with fake._lock:
                job = fake.batches.pop(name, None)
            return self._send_json(200, {}) if job is not None else self._send_json(404, unknown)
        if self.command != "GET" or batch[3]:
            return self._send_json(404, not_found)
        job = fake.poll_batch(name)
        return self._send_json(200, job.operation()) if job is not None else self._send_json(404, unknown)

    def _batch_page(self, fake: FakeGemini, url) -> dict:
        """One page of `GET batches`, newest first; the page token is the offset."""
        query = parse_qs(url.query)
        size = int(query.get("pageSize", ["50"])[0] or 50)
        start = int(query.get("pageToken", ["0"])[0] or 0)
        with fake._lock:
            jobs = list(reversed(fake.batches.values()))
            page = {"operations": [job.operation() for job in jobs[start : start + size]]}
        if start + size < len(jobs):
            page["nextPageToken"] = str(start + size)
        return page

    def _upload(self, fake: FakeGemini, url, raw: bytes, body: Any) -> None:
        """Google's resumable upload: a start request hands out an upload URL; chunks go to it."""
        command = (self.headers.get("X-Goog-Upload-Command") or "").lower()
        upload_id = parse_qs(url.query).get("upload_id", [""])[0]
        if "start" in command:
            upload_id = fake.start_upload(body)
            headers = {
                "x-goog-upload-url": f"{fake.url}/upload/v1beta/files?upload_id={upload_id}&upload_protocol=resumable",
                "x-goog-upload-status": "active",
            }
            return self._send_json(200, {}, headers=headers)
        offset = int(self.headers.get("X-Goog-Upload-Offset") or 0)
        result = fake.upload_chunk(upload_id, offset, raw, "finalize" in command) if upload_id else None
        if result is None:
            return self._send_json(
                400,
                error_body(400, "INVALID_ARGUMENT", "Unknown upload, or a chunk at the wrong offset."),
                headers={"x-goog-upload-status": "final"},
            )
        if not result:
            return self._send_json(200, {}, headers={"x-goog-upload-status": "active"})
        self._send_json(200, {"file": result}, headers={"x-goog-upload-status": "final"})

    def _send_bytes(self, data: bytes, mime: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_reply(self, method: str, query: str, events: list[dict], fault: str | None = None) -> None:
        if method == "generateContent":
            return self._send_json(200, events[-1], fault)
        if "alt=sse" not in query:
            # Without alt=sse the real API streams one JSON array; the SDK always asks for SSE.
            return self._send_json(200, events, fault)
        self._send_sse(events, fault)

    def _send_json(self, status: int, body: Any, fault: str | None = None, headers: dict | None = None) -> None:
        data = GARBAGE if fault == "garbage" else json.dumps(body, indent=2).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault == "cut":
            # Promise the whole body, send half, hang up: the client sees an incomplete read.
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self.wfile.write(data)

    def _send_sse(self, events: list[dict], fault: str | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if fault == "cut":
            # About half the events, then close without the final one or the chunked terminator;
            # a reply of one event (a call) is cut inside it.
            for event in events[: len(events) // 2]:
                self._write_chunk(b"data: " + json.dumps(event).encode() + b"\r\n\r\n")
            if len(events) == 1:
                data = b"data: " + json.dumps(events[0]).encode()
                self._write_chunk(data[: len(data) // 2])
            self.close_connection = True
            return
        for i, event in enumerate(events):
            data = GARBAGE if fault == "garbage" and i == 0 else json.dumps(event).encode()
            self._write_chunk(b"data: " + data + b"\r\n\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def _fault_arg(spec: str) -> Fault:
    try:
        return parse_fault(spec)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _batch_fault_arg(spec: str) -> Fault:
    try:
        return parse_batch_fault(spec)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="apprentice dev fake-gemini",
        description="A local server that speaks Gemini's REST API, answers from a table and injects faults.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 (default) picks a free one")
    parser.add_argument(
        "--answers",
        metavar="FILE.jsonl",
        help='lines of {"query", "answer" or "reference", "rationale"?} or {"query", "call": {"name", "arguments"}}',
    )
    parser.add_argument(
        "--record",
        metavar="FILE.jsonl",
        help="append each request (path, model, body, declared tools, time) as a JSON line",
    )
    parser.add_argument(
        "--fault",
        metavar="KIND[:COUNT[:DELAY]]",
        type=_fault_arg,
        action="append",
        default=[],
        help=f"inject a fault ({', '.join(FAULT_KINDS)}) into the first COUNT requests (default: all); repeatable",
    )
    parser.add_argument(
        "--batch-polls",
        type=int,
        default=2,
        metavar="N",
        help="polls of a batch job before it ends (RUNNING until then; default 2)",
    )
    parser.add_argument(
        "--batch-fault",
        metavar="KIND[:COUNT]",
        type=_batch_fault_arg,
        action="append",
        default=[],
        help="end the next COUNT batch jobs (default: all) FAILED or EXPIRED: failed[:COUNT], expired[:COUNT]",
    )
    parser.add_argument("--key", help="accept only this API key (default: any non-empty key)")
    parser.add_argument(
        "--default-answer", metavar="TEXT", default=DEFAULT_ANSWER, help="the answer to a query not in the table"
    )
    args = parser.parse_args(argv)

    try:
        fake = FakeGemini(
            args.answers,
            args.fault,
            args.record,
            key=args.key,
            port=args.port,
            default_answer=args.default_answer,
            log=True,
            keep_requests=False,
            batch_polls=args.batch_polls,
            batch_faults=args.batch_fault,
        )
    except AnswersError as e:
        print(e, file=sys.stderr)
        return 2
    if fake.record is not None:
        try:
            fake.record.open("a").close()
        except OSError as e:
            print(f"Cannot write the record file {fake.record}: {e.strerror}.", file=sys.stderr)
            return 2
    try:
        url = fake.start()
    except OSError as e:
        print(f"Cannot listen on 127.0.0.1:{args.port}: {e.strerror}; pick another --port or 0.", file=sys.stderr)
        return 1

    # SIGTERM (how tests and scripts stop it) ends the wait below like Ctrl-C does.
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print(f"listening on {url}", flush=True)
    try:
        stopped.wait()
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        fake.stop()


if __name__ == "__main__":
    sys.exit(main())
