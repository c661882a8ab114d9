"""`apprentice distill --label FILE.jsonl`: teacher labels for a file of queries, through Gemini's Batch API.

    apprentice distill --label queries.jsonl [--json] [--progress rich|jsonl|none] [--poll-seconds 30]
    apprentice distill --label queries.jsonl --label-cancel     # give up the file's unfinished job

Each line of the file is {"query": "…"} (other fields, such as a benchmark's "reference", are
ignored). The queries go to Gemini as one batch job, at batch price, and the answers come back
as distillation examples that `apprentice distill` then trains on, like logged fallbacks.

1. What may leave leaves as a live query would: only in ask or auto mode with a key (private
   mode refuses, and no client is built); each query redacted by the same Redactor, with the
   same placeholders, and the tools declared the same way, so a labelled action comes back as a
   call. In ask mode the person at the terminal says yes once to the redacted queries; with no
   terminal, nothing is sent. A query about the user's notes never leaves; one that needs live
   information (the weather) is not sent, since its label would be stale before the student
   learned it; one already labelled by an earlier job is not sent again.
2. The job and each query are recorded in the store before the job is created, and the job's
   name as soon as Gemini gives it: a killed run finds the same job next time (by name, or by
   its unique display name when the kill came before the name was recorded) instead of paying
   for a second one.
3. While the job runs, its state is polled (a bar on stderr). When it succeeds, each result is
   logged once as a turn of the job's own conversation (source "label": the query as typed, the
   answer restored) and an example (what left, redacted, and the answer as received); a
   result already written is never written again, so a run killed while writing resumes
   where it stopped. A per-query error is recorded as a failed example, and that query goes
   again in the next job. A job that fails or expires gives no examples: one sentence says so,
   and the next run sends what is still unlabelled. Labels are not live queries: they do not
   count against auto mode's daily cap, and their conversation stays out of the chat app's list
   and of `--continue`.

Up to INLINE_LIMIT_BYTES the requests go inline in the create call; a larger job is uploaded as
a JSONL file through the Files API and its results downloaded from the file Gemini writes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from assistant import config, privacy
from assistant.errors import ApprenticeError, BadInput
from assistant.redact import Redactor
from model.distill.progress import Progress

# Google accepts up to 20 MB of inlined requests in one create call; a larger job goes as a file.
INLINE_LIMIT_BYTES = 20_000_000
ENDED = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_EXPIRED", "JOB_STATE_CANCELLED"}
NO_RESULTS = {
    "JOB_STATE_FAILED": "failed",
    "JOB_STATE_EXPIRED": "expired (Gemini gives a batch 48 hours)",
    "JOB_STATE_CANCELLED": "was cancelled",
}
SHOWN = 20  # redacted queries shown when asking for consent in ask mode
# Results logged per transaction: a commit per result made 5,000 results take 77 s, mostly waiting on
# the disk; 250 to a transaction, a whole 5,000-query run (redaction, upload, polls, writing) took 20 s.
WRITE_CHUNK = 250


class LabelError(ApprenticeError):
    """A label run that stopped; the sentence says what to do next, and the job (if any) is named."""

    def __init__(self, message: str, job: str | None = None, state: str | None = None):
        super().__init__(message)
        self.job, self.state = job, state


@dataclass
class Plan:
    """What a new job would send, and what the file held that it will not send."""

    requests: list[dict]  # batch_requests rows: key, digest, query, query_sent, redactions, restore
    skipped: dict[str, int] = field(default_factory=dict)  # why → how many


def digest(query: str) -> str:
    """The query's identity, kept on this machine: case and spacing do not make it a new query."""
    return hashlib.sha256(" ".join(query.split()).lower().encode()).hexdigest()[:32]


def read_queries(path: Path) -> list[str]:
    """The file's queries, in order; BadInput naming the line that cannot be used."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise BadInput(f'There is no file {path}; give --label a JSONL file of {{"query": ...}} lines.') from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "it is not UTF-8 text"
        raise BadInput(f"Cannot read {path} ({reason}); give --label a readable JSONL file.") from None
    queries = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInput(f'{path}, line {n} is not JSON ({exc.msg}); each line must be {{"query": ...}}.') from None
        if not isinstance(row, dict) or not isinstance(row.get("query"), str) or not row["query"].strip():
            raise BadInput(f'{path}, line {n} has no "query" text; each line must be {{"query": ...}}.')
        queries.append(row["query"].strip())
    if not queries:
        raise BadInput(f'{path} holds no queries; each line must be {{"query": ...}}.')
    return queries


def plan(queries: list[str], store, settings: config.Settings) -> Plan:
    """The requests a new job sends: each query redacted as a live one is, minus what must not or need not go."""
    from assistant.router import CLOCK, NOTES, needs_live_information

    done = store.labelled_digests()
    seen: set[str] = set()
    out = Plan([])

    def skip(why: str) -> None:
        out.skipped[why] = out.skipped.get(why, 0) + 1

    for query in queries:
        d = digest(query)
        if d in seen:
            skip("duplicate in the file")
            continue
        seen.add(d)
        if d in done:
            skip("already labelled")
        elif NOTES.search(query):
            skip("about your notes, which never leave")
        elif needs_live_information(query) or CLOCK.search(query):
            skip("needs live information")
        else:
            redactor = Redactor(settings.redact_terms)  # one per query: each is its own conversation
            sent = redactor.redact(query)
            out.requests.append(
                {
                    "key": str(len(out.requests)),
                    "digest": d,
                    "query": query,
                    "query_sent": sent,
                    "redactions": json.dumps(redactor.found),
                    "restore": json.dumps(redactor.values),
                }
            )
    return out


def permission(settings: config.Settings) -> tuple[str, str]:
    """The mode queries may leave in and the key; refuses (one sentence) when nothing may leave."""
    key = privacy.gemini_key()
    mode = privacy.default_mode(settings)
    if mode == "private":
        raise LabelError(
            "Private mode: nothing leaves this machine, so --label sent nothing; "
            "set mode to ask or auto (APPRENTICE_MODE or config.toml) if these queries may go to Gemini."
        )
    if key is None:
        raise LabelError(
            "--label asks Gemini, which needs a key: set GEMINI_API_KEY or run `apprentice keys set gemini`."
        )
    return mode, key


def ask_at_terminal(text: str) -> bool:
    """Show what would leave and ask once; anything but yes is no."""
    from assistant.render import inert

    with open("/dev/tty", "r+") as tty:
        rule = "─" * 60
        tty.write(f"\n{inert(text)}\n{rule}\nSend these to Gemini's Batch API? [y/N] ")
        tty.flush()
        return tty.readline().strip().lower() in ("y", "yes")


def terminal_consent():
    """`ask_at_terminal` when a terminal is there to answer, else None."""
    try:
        with open("/dev/tty", "r+"):
            return ask_at_terminal
    except OSError:
        return None


def consent_text(requests: list[dict], model: str) -> str:
    shown = [f"  {r['query_sent']}" for r in requests[:SHOWN]]
    more = len(requests) - SHOWN
    lines = [f"{len(requests)} queries would go to {model} as one batch job. Gemini would receive exactly:", *shown]
    if more > 0:
        lines.append(f"  … and {more} more, redacted the same way.")
    return "\n".join(lines)


# -- the requests, as the SDK sends them -----------------------------------------------------------


def _rest_request(text: str, system: str, tool) -> dict:
    """One GenerateContentRequest in the API's JSON: a line of the uploaded file."""
    request: dict = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    if system:
        request["systemInstruction"] = {"parts": [{"text": system}]}
    if tool is not None:
        request["tools"] = [tool.model_dump(mode="json", by_alias=True, exclude_none=True)]
    return request


def create(client, store, job: dict, teacher, progress: Progress) -> str:
    """Create the job at Gemini (inline, or from an uploaded file) and record its name at once."""
    from google.genai import types

    rows = store.batch_requests(job["id"])
    lines = [
        json.dumps({"key": r["key"], "request": _rest_request(r["query_sent"], teacher.system_prompt, teacher.tool)})
        for r in rows
    ]
    size = sum(len(line) + 1 for line in lines)
    display = {"display_name": job["display_name"]}
    if size <= INLINE_LIMIT_BYTES:
        config_ = types.GenerateContentConfig(
            system_instruction=teacher.system_prompt or None, tools=[teacher.tool] if teacher.tool else None
        )
        src = [
            types.InlinedRequest(
                contents=[types.Content(role="user", parts=[types.Part(text=r["query_sent"])])],
                metadata={"key": r["key"]},
                config=config_,
            )
            for r in rows
        ]
        created = client.batches.create(model=teacher.model, src=src, config=display)
    else:
        progress.say(f"Uploading the {len(rows)} requests ({size / 1e6:.1f} MB) as a file.")
        data = io.BytesIO("\n".join(lines).encode())
        uploaded = client.files.upload(
            file=data, config={"mime_type": "application/jsonl", "display_name": job["display_name"]}
        )
        created = client.batches.create(model=teacher.model, src=uploaded.name, config=display)
    # Recorded before anything else can happen: from here on a killed run resumes this job.
    store.update_batch_job(job["id"], name=created.name, state=_state(created))
    return created.name


def _state(batch_job) -> str:
    state = batch_job.state
    return getattr(state, "value", None) or str(state or "JOB_STATE_PENDING")


def find_created(client, display_name: str) -> str | None:
    """The job a killed run created but never recorded, found by its unique display name."""
    for found in client.batches.list(config={"page_size": 100}):
        if found.display_name == display_name:
            return found.name
    return None


# -- results -----------------------------------------------------------------------------------


def results(client, batch_job):
    """(key, GenerateContentResponse or None, error or None) for each request of a finished job."""
    from google.genai import types

    dest = batch_job.dest
    if dest is not None and dest.inlined_responses:
        for r in dest.inlined_responses:
            yield str((r.metadata or {}).get("key")), r.response, _error_text(r.error)
        return
    if dest is None or not dest.file_name:
        return
    with tempfile.TemporaryDirectory(prefix="apprentice-labels-") as folder:
        # To disk, not memory: a large job's results run to hundreds of megabytes.
        path = Path(folder) / "results.jsonl"
        client.files.download(file=dest.file_name, destination=str(path))
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    response = (
                        types.GenerateContentResponse.model_validate(row["response"]) if "response" in row else None
                    )
                except (json.JSONDecodeError, ValueError, TypeError, KeyError):
                    continue  # an unreadable line: its query stays unlabelled and goes again next time
                yield str(row.get("key")), response, _error_text(row.get("error"))


def _error_text(error) -> str | None:
    if not error:
        return None
    message = error.get("message") if isinstance(error, dict) else getattr(error, "message", None)
    return f"Gemini could not answer this request ({message or error})."


def read_answer(response):
    """(text, ToolCall or None, error or None) from one response, as the live teacher reads a stream."""
    from assistant.teacher import FAILED_CALL
    from assistant.tools.calls import ToolCall

    candidate = response.candidates[0] if response is not None and response.candidates else None
    if candidate is None:
        blocked = getattr(getattr(response, "prompt_feedback", None), "block_reason", None)
        return (
            "",
            None,
            "Gemini gave no answer" + (f" (blocked: {getattr(blocked, 'value', blocked)})." if blocked else "."),
        )
    texts, calls = [], []
    for part in (candidate.content.parts if candidate.content else None) or ():
        if part.function_call is not None and part.function_call.name:
            calls.append(ToolCall(part.function_call.name, dict(part.function_call.args or {})))
        elif part.text and not part.thought:
            texts.append(part.text)
    reason = getattr(candidate.finish_reason, "value", candidate.finish_reason)
    if reason in FAILED_CALL and not calls:
        return "", None, f"Gemini sent {FAILED_CALL[reason]}."
    text = "".join(texts)
    if not text and not calls:
        return "", None, "Gemini gave an empty answer."
    return text, calls[0] if calls else None, None


def write_results(client, store, job: dict, batch_job, progress: Progress) -> dict:
    """Log each result once; returns how many were written now, failed, or were written before."""
    from assistant.core import restored
    from assistant.tools import ToolError, validate
    from assistant.tools.calls import format_call

    rows = {r["key"]: r for r in store.batch_requests(job["id"])}
    conversation = store.label_conversation(job["id"], f"Teacher labels: {Path(job['file']).name}")
    counts = {"labelled": 0, "failed": 0, "written_before": 0}
    task = progress.task("writing labels", len(rows))
    pending: list[tuple[str, dict | None, dict]] = []

    def flush() -> None:
        for (_, _, example), written in zip(pending, store.write_labels(job["id"], pending)):
            if written is None:
                counts["written_before"] += 1
            else:
                counts["labelled" if example["status"] == "ok" else "failed"] += 1
        task.advance(len(pending))
        pending.clear()

    for key, response, error in results(client, batch_job):
        row = rows.get(key)
        if row is None:
            continue  # not a request of this job
        if row["example_id"] is not None:
            counts["written_before"] += 1
            task.advance()
            continue
        text, call = "", None
        if error is None:
            text, call, error = read_answer(response)
        if error is None and call is not None:
            try:
                validate(call.name, call.arguments)
            except ToolError:
                # A call the registry refuses, taught as an example, would teach the student to make it.
                error = "the teacher's tool call did not pass validation"
        usage = getattr(response, "usage_metadata", None)
        example = {
            "query_sent": row["query_sent"],
            "messages_sent": json.dumps([{"role": "user", "content": row["query_sent"]}]),
            "redactions": row["redactions"],
            "teacher_model": job["model"],
            "consent": job["consent"],
            "reason": f"labelled by Gemini's Batch API ({job['name']})",
            "status": "ok" if error is None else "failed",
            "error": error,
            # As received, placeholders and all; a call as the student writes one.
            "teacher_answer": (text + (format_call(call) if call else "")) or None,
            "prompt_tokens": getattr(usage, "prompt_token_count", None) if error is None else None,
            "answer_tokens": getattr(usage, "candidates_token_count", None) if error is None else None,
        }
        turn = None
        if error is None:
            redactor = Redactor()  # only restores: the placeholders this query was sent with
            redactor.values.update(json.loads(row["restore"] or "{}"))
            answer = redactor.restore(text) + (format_call(restored(call, redactor)) if call else "")
            turn = {
                "conversation_id": conversation,
                "query": row["query"],
                "answer": answer,
                "route": "cloud",
                "reason": example["reason"],
                "model": job["model"],
                "source": "label",
                "status": "done",
                "notes": "[]",
                "tokens": example["answer_tokens"] or 0,
            }
        pending.append((key, turn, example))
        if len(pending) >= WRITE_CHUNK:
            flush()
    flush()
    return counts


# -- the run -----------------------------------------------------------------------------------


def client_for(key: str, settings: config.Settings):
    from google import genai
    from google.genai import types

    return genai.Client(api_key=key, http_options=types.HttpOptions(timeout=int(settings.teacher_timeout_s * 1000)))


def describe(exc: BaseException, key: str) -> str:
    """An SDK error in words, never with the key in it."""
    from google.genai import errors

    if isinstance(exc, errors.APIError):
        text = f"{exc.code} {exc.status or ''}: {exc.message or ''}".strip()
    elif "Timeout" in type(exc).__name__:
        text = "no reply in time"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text.replace(key, "[key]") if len(key) >= 8 else text


def poll(client, store, job: dict, progress: Progress, poll_s: float, retries: int, key: str, again: str):
    """Get the job until it ends, recording each new state; a few failed gets in a row stop the run."""
    task = progress.task("batch job", job["requests"])
    state, failures = job["state"], 0
    while True:
        try:
            batch_job = client.batches.get(name=job["name"])
            failures = 0
        except Exception as exc:
            code = getattr(exc, "code", None)
            if code == 404:  # deleted, or purged long after it ended: its queries must go again
                store.end_batch_job(job["id"], "gone", "Gemini no longer knows this job")
                raise LabelError(
                    f"Gemini no longer knows batch job {job['name']} (deleted, or kept past its time), so none "
                    f"of its {job['requests']} queries was labelled; run {again} again to send them in a new job.",
                    job["name"],
                    "gone",
                ) from None
            refused = isinstance(code, int) and 400 <= code < 500 and code not in (408, 429)
            failures += 1
            if refused or failures > retries:  # the job goes on at Gemini either way
                raise LabelError(
                    f"Gemini {'refused to show' if refused else 'could not be reached about'} batch job "
                    f"{job['name']} ({describe(exc, key)}); run {again} again to pick the job up.",
                    job["name"],
                    state,
                ) from None
            time.sleep(poll_s)
            continue
        new = _state(batch_job)
        if new != state:
            state = new
            store.update_batch_job(job["id"], state=state)
        task.advance(0, state=state.removeprefix("JOB_STATE_").lower())
        if state in ENDED:
            if state == "JOB_STATE_SUCCEEDED":
                task.advance(job["requests"] - task.done, state="succeeded")
            return batch_job
        time.sleep(poll_s)


def run(args: argparse.Namespace, progress: Progress, consent=None) -> dict:
    """Label the file's queries; returns the result object (`--json` prints it)."""
    from assistant.store import Store
    from assistant.teacher import Teacher

    started = time.monotonic()
    settings = config.load()
    path = Path(args.label).expanduser()
    queries = read_queries(path)
    mode, key = permission(settings)  # before any client exists: private mode opens no socket
    store = Store()
    file = str(path.resolve())
    job = store.open_batch_job(file)
    notes: list[str] = []
    result: dict = {"status": "labelled", "file": str(path), "notes": notes}

    if getattr(args, "label_cancel", False):
        return cancel(store, job, path, key, settings, result)

    teacher = Teacher.from_settings(key, settings)  # the system prompt and tool declarations a live query gets
    resumed = job is not None
    if not resumed:
        todo = plan(queries, store, settings)
        result["skipped"] = todo.skipped
        for why, n in todo.skipped.items():
            notes.append(f"{n} quer{'y' if n == 1 else 'ies'} not sent: {why}.")
        if not todo.requests:
            return {**result, "job": None, "requests": 0, "labelled": 0, "failed": 0}
        if mode == "ask":
            consent = consent if consent is not None else terminal_consent()
            if consent is None:
                raise LabelError(
                    f"Ask mode, but no one at a terminal to say yes to sending {len(todo.requests)} queries; "
                    "run it in a terminal, or with APPRENTICE_MODE=auto if they may go without asking."
                )
            if not consent(consent_text(todo.requests, teacher.model)):
                raise LabelError("You kept these queries on this machine; nothing was sent.")
        job_id = store.add_batch_job(
            todo.requests,
            display_name=f"apprentice-label-{uuid.uuid4().hex[:16]}",
            file=file,
            model=teacher.model,
            consent=mode,
            requests=len(todo.requests),
            state="creating",
        )
        job = store.batch_job(job_id)
        progress.say(f"Sending {len(todo.requests)} redacted queries to {teacher.model} as one batch job.")
    else:
        progress.say(f"Picking up batch job {job['name'] or job['display_name']} for {path.name}.")

    client = client_for(key, settings)
    try:
        if job["name"] is None:
            # A run killed while creating it may have created it: then Gemini knows its display name.
            name = find_created(client, job["display_name"]) if resumed else None
            if name is not None:
                store.update_batch_job(job["id"], name=name)
            else:
                create(client, store, job, teacher, progress)
            job = store.batch_job(job["id"])
        again = f"`apprentice distill --label {path}`"
        batch_job = poll(client, store, job, progress, args.poll_seconds, settings.teacher_retries, key, again)
        state = _state(batch_job)
        if state != "JOB_STATE_SUCCEEDED":
            why = NO_RESULTS.get(state, state)
            store.end_batch_job(job["id"], state, why)
            raise LabelError(
                f"Gemini's batch job {job['name']} {why}, so none of its {job['requests']} queries was labelled; "
                f"run `apprentice distill --label {path}` again to send them in a new job.",
                job["name"],
                state,
            )
        counts = write_results(client, store, job, batch_job, progress)
    except LabelError:
        raise
    except Exception as exc:
        from google.genai import errors

        if not isinstance(exc, (errors.APIError, OSError)) and not type(exc).__module__.startswith("httpx"):
            raise
        raise LabelError(
            f"Gemini refused or failed a batch request ({describe(exc, key)}); "
            "run the same command again to pick the job up where it stopped.",
            job["name"],
            job["state"],
        ) from None
    store.update_batch_job(job["id"], state="written", error=None)
    if counts["failed"]:
        notes.append(f"{counts['failed']} request(s) got no usable answer; the next --label run sends them again.")
    return {
        **result,
        "job": job["name"],
        "state": "JOB_STATE_SUCCEEDED",
        "requests": job["requests"],
        **counts,
        "seconds": round(time.monotonic() - started, 1),
    }


def cancel(store, job: dict | None, path: Path, key: str, settings: config.Settings, result: dict) -> dict:
    """Give up the file's unfinished job: cancelled at Gemini, and its queries free to go in a new one."""
    if job is None:
        raise BadInput(f"There is no unfinished batch job for {path}; nothing to cancel.")
    client = client_for(key, settings)
    name = job["name"] or find_created(client, job["display_name"])
    if name is not None:
        try:
            client.batches.cancel(name=name)
        except Exception as exc:
            raise LabelError(
                f"Gemini did not cancel batch job {name} ({describe(exc, key)}); try again.", name, job["state"]
            ) from None
    store.update_batch_job(job["id"], name=name)
    store.end_batch_job(job["id"], "JOB_STATE_CANCELLED", "cancelled by you")
    return {**result, "status": "cancelled", "job": name, "requests": job["requests"]}


def main(args: argparse.Namespace) -> int:
    """`apprentice distill --label FILE`: exit 0 labelled, 1 a job that failed or an error, 2 bad input, 130 Ctrl-C."""
    progress = Progress.for_flags(args.progress, args.json)
    try:
        with progress:
            result = run(args, progress)
    except KeyboardInterrupt:
        print(
            "\nInterrupted; the batch job goes on at Gemini and the same command picks it up "
            "(nothing is sent again, and no result is logged twice).",
            file=sys.stderr,
        )
        return 130
    except ApprenticeError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        if args.json:
            out = {"status": "error", "error": str(exc)}
            if isinstance(exc, LabelError) and exc.job:
                out.update(job=exc.job, state=exc.state)
            print(json.dumps(out))
        return exc.exit_code
    for note in result.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    elif result["status"] == "cancelled":
        print(f"Cancelled batch job {result['job'] or '(never created)'}; its queries go in the next --label run.")
    elif not result["requests"]:
        print(f"Nothing to send from {args.label}: every query is labelled already or stays here.")
    else:
        failed = f"; {result['failed']} got no usable answer" if result["failed"] else ""
        print(
            f"Labelled {result['labelled']} of {result['requests']} queries through batch job {result['job']}{failed}. "
            "`apprentice distill` trains on them."
        )
    return 0
